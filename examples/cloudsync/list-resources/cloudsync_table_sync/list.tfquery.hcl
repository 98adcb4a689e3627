# The tables CloudSync is enabled on, in one database; without `config`, in every database.
list "cloudsync_table_sync" "app" {
  provider = cloudsync
  config {
    database_id = "db_0123456789abcdef01234567"
  }
}

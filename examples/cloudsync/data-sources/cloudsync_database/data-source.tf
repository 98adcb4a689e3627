data "cloudsync_database" "app" {
  id = "db_0123456789abcdef01234567"
}

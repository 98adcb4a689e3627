# The snapshots of one database; `db_type` alone lists those of every database of an engine.
list "wayscloud_database_snapshot" "webapp" {
  provider = wayscloud
  config {
    db_type = "postgresql"
    db_name = "cust_6dd1d906_pg_webapp_prod_db"
  }
}

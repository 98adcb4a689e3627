data "wayscloud_database_metrics" "app" {
  db_type = wayscloud_database.app.db_type
  db_name = wayscloud_database.app.db_name
}

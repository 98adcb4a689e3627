resource "wayscloud_database_backup_policy" "app" {
  db_type        = wayscloud_database.app.db_type
  db_name        = wayscloud_database.app.db_name
  enabled        = true
  frequency      = "daily" # hourly, daily or weekly
  retention_days = 14
  time_of_day    = "02:30" # HH:MM, UTC
}

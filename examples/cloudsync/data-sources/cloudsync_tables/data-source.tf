data "cloudsync_tables" "app" {
  database_id = cloudsync_database.app.id
}

output "synced_tables" {
  value = data.cloudsync_tables.app.enabled_tables
}

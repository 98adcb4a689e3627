data "cloudsync_database_connection" "app" {
  database_id = cloudsync_database.app.id
}

check "tenant_reachable" {
  assert {
    condition     = data.cloudsync_database_connection.app.ok
    error_message = "CloudSync cannot reach the tenant database: ${coalesce(data.cloudsync_database_connection.app.remedy, "")}"
  }
}

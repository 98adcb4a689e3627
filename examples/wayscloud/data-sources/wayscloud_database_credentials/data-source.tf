data "wayscloud_database_credentials" "app" {
  db_type = wayscloud_database.app.db_type
  db_name = wayscloud_database.app.db_name
}

# Metadata only: WaysCloud never returns a password here. The password comes from
# wayscloud_database.app.password (create or rotation).
output "app_host" {
  value = data.wayscloud_database_credentials.app.host
}

# A connection string with the user and password percent-escaped, e.g. for an app whose
# database password comes from elsewhere.
variable "app_db_password" {
  type      = string
  sensitive = true
}

output "app_db_url" {
  value = provider::wayscloud::connection_string(
    wayscloud_database.app.db_type,
    wayscloud_database.app.host,
    wayscloud_database.app.port,
    wayscloud_database.app.db_name,
    wayscloud_database.app.username,
    var.app_db_password,
  )
  sensitive = true
}

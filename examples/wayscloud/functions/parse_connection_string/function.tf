# The parts of a database's connection string: engine, host, port, database, username,
# password (sensitive, as the string is) and options.
locals {
  app_db = provider::wayscloud::parse_connection_string(wayscloud_database.app.connection_string)
}

output "app_db_host" {
  value = nonsensitive(local.app_db.host)
}

# The parts of a connection string: provider (`sqlitecloud` or `postgres`), host, port,
# database, username, password, apikey (sensitive, as the string is) and options.
variable "connection_string_to_parse" {
  type      = string
  sensitive = true
  default   = "sqlitecloud://project.sqlite.cloud:8860/appdb?apikey=xxxx"
}

output "parsed_provider" {
  value = nonsensitive(provider::cloudsync::parse_connection_string(var.connection_string_to_parse).provider)
}

# sqlitecloud://project.sqlite.cloud:8860/appdb?apikey=... with the key escaped.
variable "sqlitecloud_apikey" {
  type      = string
  sensitive = true
  default   = "xxxx"
}

output "sqlitecloud_connection_string" {
  value     = provider::cloudsync::sqlitecloud_connection_string("project.sqlite.cloud", 8860, "appdb", var.sqlitecloud_apikey)
  sensitive = true
}

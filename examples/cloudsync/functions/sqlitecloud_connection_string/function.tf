# sqlitecloud://project.sqlite.cloud:8860/appdb?apikey=... with the key escaped.
variable "node_apikey" {
  type      = string
  sensitive = true
  default   = "xxxx"
}

output "built_sqlitecloud_url" {
  value     = provider::cloudsync::sqlitecloud_connection_string("project.sqlite.cloud", 8860, "appdb", var.node_apikey)
  sensitive = true
}

# postgres://app:...@db.example.com:5432/appdb with the user and password escaped.
variable "tenant_postgres_password" {
  type      = string
  sensitive = true
  default   = "p@ss:word/with%reserved"
}

output "built_postgres_url" {
  value     = provider::cloudsync::postgres_connection_string("db.example.com", 5432, "appdb", "app", var.tenant_postgres_password)
  sensitive = true
}

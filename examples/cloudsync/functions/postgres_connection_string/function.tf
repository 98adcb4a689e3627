# postgres://app:...@db.example.com:5432/appdb with the user and password escaped.
variable "postgres_password" {
  type      = string
  sensitive = true
  default   = "p@ss:word/with%reserved"
}

output "postgres_connection_string" {
  value     = provider::cloudsync::postgres_connection_string("db.example.com", 5432, "appdb", "app", var.postgres_password)
  sensitive = true
}

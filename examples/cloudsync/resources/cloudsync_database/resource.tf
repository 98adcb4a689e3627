variable "tenant_connection_string" {
  type      = string
  sensitive = true # postgres://app:password@db.example.com:5432/app
}

variable "jwt_secret" {
  type      = string
  sensitive = true
  ephemeral = true # Terraform 1.10+: never stored
}

resource "cloudsync_database" "app" {
  label             = "App database"
  connection_string = var.tenant_connection_string
  database_provider = "postgres"
  flavor            = "vanilla"
  database_name     = "app"
  schema_name       = "public"

  jwt_allowed_issuers    = ["https://project.supabase.co/auth/v1"]
  jwt_expected_audiences = ["authenticated"]
  jwks_uri               = "https://project.supabase.co/auth/v1/.well-known/jwks.json"

  # Write-only (Terraform 1.11+): never in plan or state; bump the version to send it again.
  jwt_secret_wo         = var.jwt_secret
  jwt_secret_wo_version = 1
}

# A SQLite Cloud database.
resource "cloudsync_database" "edge" {
  label             = "Edge"
  connection_string = "sqlitecloud://project.sqlite.cloud:8860?apikey=${var.sqlitecloud_apikey}"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}

variable "sqlitecloud_apikey" {
  type      = string
  sensitive = true
}

variable "expo_access_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Write-only: the token never lands in plan or state; bump the version to rotate it.
resource "cloudsync_expo_access_token" "push" {
  database_id      = cloudsync_database.app.id
  token_wo         = var.expo_access_token
  token_wo_version = 1
}

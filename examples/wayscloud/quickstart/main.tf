# WaysCloud quickstart: a PostgreSQL database with a daily backup policy, and the
# connection details Terraform keeps (the password and connection string are sensitive).
#
#   export WAYSCLOUD_API_KEY=...            # a key with database:create/read/update/delete
#   export WAYSCLOUD_API_URL=...            # or the local emulator's URL
#   terraform init && terraform apply
#   psql "$(terraform output -raw connection_string)"

terraform {
  required_providers {
    wayscloud = {
      source = "wayscloud/wayscloud"
    }
  }
}

provider "wayscloud" {}

resource "wayscloud_database" "app" {
  db_type          = "postgresql"
  requested_name   = "quickstart"
  connection_limit = 20
  description      = "Quickstart"
  password_version = 1
}

resource "wayscloud_database_backup_policy" "app" {
  db_type        = wayscloud_database.app.db_type
  db_name        = wayscloud_database.app.db_name
  enabled        = true
  frequency      = "daily"
  retention_days = 7
  time_of_day    = "02:30"
}

output "db_name" {
  value = wayscloud_database.app.db_name
}

output "host" {
  value = wayscloud_database.app.host
}

output "port" {
  value = wayscloud_database.app.port
}

output "connection_string" {
  value     = wayscloud_database.app.connection_string
  sensitive = true
}

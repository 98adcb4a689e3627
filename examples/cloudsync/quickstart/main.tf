# CloudSync quickstart: register a SQLite Cloud database with CloudSync and turn sync on for
# one of its tables. Against the local emulator, scripts/test.sh's compatibility test makes
# the tenant database (an emulated SQLite Cloud node, see docs/api/cloudsync.md); against
# SQLite Cloud, pass your node's connection string.
#
#   export CLOUDSYNC_API_URL=...  CLOUDSYNC_API_KEY=...
#   terraform apply -var 'connection_string=sqlitecloud://HOST:8860?apikey=KEY'

terraform {
  required_providers {
    cloudsync = {
      source = "cloudsync/cloudsync"
    }
  }
}

provider "cloudsync" {}

variable "connection_string" {
  type      = string
  sensitive = true
}

resource "cloudsync_database" "notes" {
  label             = "Notes"
  connection_string = var.connection_string
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "notes"
}

resource "cloudsync_table_sync" "notes" {
  database_id = cloudsync_database.notes.id
  table       = "notes"
}

output "database_id" {
  value = cloudsync_database.notes.id
}

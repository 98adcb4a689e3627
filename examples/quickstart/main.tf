# Quickstart: a database, a short-lived query token, what Comwit reports about them, and an
# app (./app) whose page counts its visits in that database: the app reads DATABASE_URL and
# DATABASE_TOKEN from its environment and queries the database over the libSQL protocol.
# The app is also served at www.quickstart.test, a hostname in a project domain whose DNS
# records Comwit manages.
#
# Run it against the local emulator with `scripts/demo.sh` (it sets COMWIT_API_URL,
# COMWIT_TOKEN and COMWIT_PROJECT_ID), or against Comwit Cloud with your own token.

terraform {
  required_providers {
    comwit = {
      source = "comwit/comwit"
    }
  }
}

provider "comwit" {}

data "comwit_project" "current" {}

resource "comwit_database" "app" {
  name                = "quickstart"
  deletion_protection = true
  token_version       = 1
}

resource "comwit_database_query_token" "console" {
  database_id = comwit_database.app.id
  ttl_seconds = 3600
  audience    = "sql-console"
  reason      = "quickstart"
}

resource "comwit_app" "web" {
  name = "quickstart-web"
}

resource "comwit_app_env" "web" {
  app_id = comwit_app.web.id
  vars = {
    DATABASE_URL = comwit_database.app.database_url
    GREETING     = "Hello"
  }
  secrets = {
    DATABASE_TOKEN = comwit_database.app.database_token
  }
}

# Changed code in ./app plans a new build; unchanged code plans nothing.
resource "comwit_app_deployment" "web" {
  app_id     = comwit_app.web.id
  source_dir = "${path.module}/app"
  depends_on = [comwit_app_env.web]
}

# A domain for the app: Comwit hosts its zone (set name_servers at your registrar), a
# record in it, and the app served at www by automatic DNS (Comwit writes the records).
resource "comwit_project_domain" "site" {
  domain = "quickstart.test"
}

resource "comwit_dns_record" "spf" {
  domain_id = comwit_project_domain.site.id
  name      = "@"
  type      = "TXT"
  value     = "v=spf1 -all"
}

resource "comwit_app_hostname" "www" {
  app_id                = comwit_app.web.id
  hostname              = "www.quickstart.test"
  dns_mode              = "automatic"
  domain_id             = comwit_project_domain.site.id
  wait_for_verification = true
  depends_on            = [comwit_app_deployment.web]
}

data "comwit_database" "app" {
  id = comwit_database.app.id
}

data "comwit_database_usage" "app" {
  database_id = comwit_database.app.id
}

output "project" {
  value = data.comwit_project.current.name
}

output "database_id" {
  value = comwit_database.app.id
}

output "database_url" {
  value = comwit_database.app.database_url
}

output "database_status" {
  value = data.comwit_database.app.status
}

output "storage_bytes" {
  value = data.comwit_database_usage.app.storage_bytes
}

output "database_token" {
  value     = comwit_database.app.database_token
  sensitive = true
}

output "query_token_expires_at" {
  value = comwit_database_query_token.console.expires_at
}

output "app_url" {
  value = comwit_app.web.default_url
}

output "app_build_id" {
  value = comwit_app_deployment.web.build_id
}

output "name_servers" {
  value = comwit_project_domain.site.name_servers
}

output "site_hostname" {
  value = comwit_app_hostname.www.hostname
}

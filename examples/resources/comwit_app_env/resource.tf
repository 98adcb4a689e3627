variable "database_token" {
  type      = string
  sensitive = true
}

variable "signing_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "comwit_app_env" "web" {
  app_id = comwit_app.web.id

  # Plain values are read back: a change made outside Terraform shows in the plan.
  vars = {
    NAME         = "world"
    DATABASE_URL = comwit_database.orders.database_url
  }

  # Sensitive values are kept in state (marked sensitive) and never read back;
  # `versions` notices when one was written outside Terraform.
  secrets = {
    DATABASE_TOKEN = var.database_token
  }

  # Write-only values (Terraform 1.11+) are never stored in plan or state.
  # Change secrets_wo_version to send them again.
  secrets_wo = {
    SIGNING_KEY = var.signing_key
  }
  secrets_wo_version = 1

  # false (default): other variables of the app are left alone.
  # true: they show in the plan and are deleted.
  authoritative = false
}

# A tenant's database this configuration does not manage (for one it manages, set
# `suspended` on its comwit_database instead). Run it with
#   terraform apply -invoke=action.comwit_database_suspend.tenant
variable "tenant_database_id" {
  type    = string
  default = "db_5c2e9a1b00112233"
}

action "comwit_database_suspend" "tenant" {
  config {
    database_id = var.tenant_database_id
    timeout     = "2m" # optional; how long to wait for the status to show
  }
}

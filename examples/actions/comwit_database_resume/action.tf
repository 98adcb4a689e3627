# terraform apply -invoke=action.comwit_database_resume.tenant
# (a database already active is reported as such, not an error)
action "comwit_database_resume" "tenant" {
  config {
    database_id = var.tenant_database_id # see comwit_database_suspend's example
  }
}

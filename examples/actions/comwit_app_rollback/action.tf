# Serve an earlier build again at once, e.g. during an incident:
#   terraform apply -invoke=action.comwit_app_rollback.web -var=rollback_build=bld_...
# (comwit_app_deployment's `active_build_id` is the lasting form of the same.)
variable "rollback_build" {
  type    = string
  default = "bld_5c2e9a1b00112233"
}

action "comwit_app_rollback" "web" {
  config {
    app_id   = comwit_app.web.id
    build_id = var.rollback_build
    timeout  = "5m" # a build still building is waited for
  }
}

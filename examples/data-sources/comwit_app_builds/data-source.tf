data "comwit_app_builds" "web" {
  app_id         = comwit_app.web.id
  log_tail_lines = 20
}

# The newest ready build, for example to roll back to it.
output "last_ready_build" {
  value = [for b in data.comwit_app_builds.web.builds : b.id if b.status == "ready"][0]
}

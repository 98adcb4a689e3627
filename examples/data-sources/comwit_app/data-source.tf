# By name, in the provider's default project (or set project_id).
data "comwit_app" "web" {
  name = "web"
}

output "web_active_build" {
  value = data.comwit_app.web.active_build_id
}

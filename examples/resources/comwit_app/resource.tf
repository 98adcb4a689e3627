resource "comwit_app" "web" {
  name = "web"
}

output "web_url" {
  value = comwit_app.web.default_url
}

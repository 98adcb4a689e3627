resource "comwit_project_domain" "main" {
  domain = "example.com"
}

# Set these at your registrar; delegation_status turns "delegated" once DNS answers them.
output "name_servers" {
  value = comwit_project_domain.main.name_servers
}

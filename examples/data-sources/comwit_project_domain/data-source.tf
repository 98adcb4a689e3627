data "comwit_project_domain" "main" {
  domain = "example.com"
}

output "delegated" {
  value = data.comwit_project_domain.main.delegation_status == "delegated"
}

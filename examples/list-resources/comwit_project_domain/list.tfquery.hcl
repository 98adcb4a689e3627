list "comwit_project_domain" "example" {
  provider = comwit
  config {
    domain_suffix = "example.com"
  }
}

# `terraform query` lists; `terraform query -generate-config-out=generated.tf` writes a
# `resource` and an `import` block for each (Terraform 1.14+).
list "comwit_database" "app" {
  provider = comwit
  config {
    name_prefix = "app-"
  }
}

# `terraform query` lists them; `terraform query -generate-config-out=generated.tf` writes
# a `resource` and an `import` block for each (Terraform 1.14+).
list "wayscloud_database" "postgres_apps" {
  provider = wayscloud
  config {
    db_type     = "postgresql"
    name_prefix = "webapp_"
  }
}

# Without id: the provider's default project.
data "comwit_project" "current" {}

output "project_name" {
  value = data.comwit_project.current.name
}

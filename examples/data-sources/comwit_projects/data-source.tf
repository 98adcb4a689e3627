data "comwit_projects" "all" {}

output "project_ids" {
  value = [for p in data.comwit_projects.all.projects : p.id]
}

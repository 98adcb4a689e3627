data "cloudsync_databases" "all" {}

output "database_ids" {
  value = [for d in data.cloudsync_databases.all.databases : d.id]
}

data "cloudsync_organization" "current" {}

output "organization" {
  value = data.cloudsync_organization.current.name
}

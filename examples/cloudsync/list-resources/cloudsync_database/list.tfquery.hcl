# The registered databases whose label starts with "prod-". CloudSync never returns a
# connection string: generated configuration leaves `connection_string = null` for you to
# fill in (the first apply sends it, and CloudSync verifies it).
list "cloudsync_database" "prod" {
  provider = cloudsync
  config {
    label_prefix      = "prod-"
    database_provider = "postgres"
  }
}

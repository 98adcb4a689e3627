# The policies that run automated backups (every database has a policy, disabled until set).
list "wayscloud_database_backup_policy" "enabled" {
  provider = wayscloud
  config {
    enabled = true
  }
}

data "cloudsync_notification_status" "app" {
  database_id = cloudsync_database.app.id
}

output "push" {
  value = data.cloudsync_notification_status.app.status # enabled | disabled | paused
}

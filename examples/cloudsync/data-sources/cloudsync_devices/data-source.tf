# Every device, read 500 per request (the API's maximum) until the last page.
data "cloudsync_devices" "app" {
  database_id = cloudsync_database.app.id
}

output "device_count" {
  value = data.cloudsync_devices.app.total
}

# terraform apply -invoke=action.cloudsync_database_check_connection.app
# A retryable failure (unreachable, paused) is checked again until the timeout; any other
# is an error at once, with CloudSync's code and what to fix.
action "cloudsync_database_check_connection" "app" {
  config {
    database_id = cloudsync_database.app.id
    timeout     = "2m"
  }
}

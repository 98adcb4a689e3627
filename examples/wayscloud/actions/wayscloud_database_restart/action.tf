# End every connection to the database (clients reconnect):
#   terraform apply -invoke=action.wayscloud_database_restart.app
action "wayscloud_database_restart" "app" {
  config {
    db_type = wayscloud_database.app.db_type
    db_name = wayscloud_database.app.db_name
    timeout = "2m" # optional; how long to wait for the database to answer again
  }
}

# Take a snapshot now (terraform apply -invoke=action.wayscloud_database_take_snapshot.app),
# or after every change of the database, from its lifecycle block:
#
#   lifecycle {
#     action_trigger {
#       events  = [after_update]
#       actions = [action.wayscloud_database_take_snapshot.app]
#     }
#   }
action "wayscloud_database_take_snapshot" "app" {
  config {
    db_type     = wayscloud_database.app.db_type
    db_name     = wayscloud_database.app.db_name
    description = "Before migration"
    timeout     = "10m"
  }
}

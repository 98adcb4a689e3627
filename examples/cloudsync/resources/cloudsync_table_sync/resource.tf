# CloudSync on two tables of a registered database (each table must exist and have a
# primary key). Destroying a resource disables sync on its table.
resource "cloudsync_table_sync" "users" {
  database_id = cloudsync_database.app.id
  table       = "users"
}

resource "cloudsync_table_sync" "orders" {
  database_id = cloudsync_database.app.id
  table       = "orders"
}

resource "wayscloud_database_snapshot" "before_migration" {
  db_type     = wayscloud_database.app.db_type
  db_name     = wayscloud_database.app.db_name
  description = "Before the v2 schema migration"
}

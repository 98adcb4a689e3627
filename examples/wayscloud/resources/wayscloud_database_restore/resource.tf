# DESTRUCTIVE: applying this replaces every row of the database with the snapshot's
# (rows written since are lost; the plan warns). Remove `target_db_name` only if that is
# what you want; with it, the snapshot is restored into a new database instead.
resource "wayscloud_database_restore" "rollback" {
  db_type        = wayscloud_database_snapshot.before_migration.db_type
  db_name        = wayscloud_database_snapshot.before_migration.db_name
  snapshot_id    = wayscloud_database_snapshot.before_migration.snapshot_id
  target_db_name = "webapp_restored_db"
}

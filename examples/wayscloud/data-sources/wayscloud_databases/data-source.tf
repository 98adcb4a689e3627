data "wayscloud_databases" "postgres" {
  db_type = "postgresql"
}

resource "wayscloud_database" "app" {
  db_type        = "postgresql" # or "mariadb"
  requested_name = "webapp_prod_db" # named cust_<customer>_pg_webapp_prod_db

  connection_limit = 200 # 10 to 1000, enforced by the engine; changed in place
  description      = "Orders service"

  # Bump to rotate the password in place (the old one is refused at once).
  password_version = 1
}

output "app_connection_string" {
  value     = wayscloud_database.app.connection_string
  sensitive = true
}

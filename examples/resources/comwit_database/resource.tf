resource "comwit_database" "orders" {
  name = "orders"

  # Deleting a database is permanent: refuse any plan that would destroy or replace it.
  deletion_protection = true

  # Bump to rotate the connection token in place (the old token stops working).
  token_version = 1

  # Set to true to suspend the database in place, false to resume it.
  suspended = false
}

output "orders_url" {
  value = comwit_database.orders.database_url
}

output "orders_token" {
  value     = comwit_database.orders.database_token
  sensitive = true
}

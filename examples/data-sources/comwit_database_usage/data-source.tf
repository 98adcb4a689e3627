data "comwit_database_usage" "orders" {
  database_id = comwit_database.orders.id
}

output "orders_storage_bytes" {
  value = data.comwit_database_usage.orders.storage_bytes
}

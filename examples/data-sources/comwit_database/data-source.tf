data "comwit_database" "orders" {
  id = comwit_database.orders.id
}

output "orders_status" {
  value = data.comwit_database.orders.status
}

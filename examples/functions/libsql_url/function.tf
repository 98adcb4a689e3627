# The URL a libSQL client wants, from a database's `database_url`: `libsql://...`,
# `https://...` (Hrana over HTTP) or `wss://...` (Hrana over WebSocket).
output "orders_libsql_url" {
  value = provider::comwit::libsql_url(comwit_database.orders.database_url, "libsql")
}

output "orders_https_url" {
  value = provider::comwit::libsql_url(comwit_database.orders.database_url, "http")
}

resource "comwit_database_query_token" "console" {
  database_id = comwit_database.orders.id
  ttl_seconds = 900
  audience    = "sql-console"
  reason      = "weekly report"

  # Replace the token once less than 5 minutes of its lifetime remain.
  renew_before_seconds = 300
}

output "console_token_expires_at" {
  value = comwit_database_query_token.console.expires_at
}

# Minted each time Terraform runs, never written to plan or state.
ephemeral "comwit_database_query_token" "migrations" {
  database_id = comwit_database.orders.id
  ttl_seconds = 600
  audience    = "migrations"
  reason      = "schema migration during apply"
}

# Hand it to something that accepts ephemeral values, for example another provider's
# configuration or a write-only attribute:
locals {
  migration_token = ephemeral.comwit_database_query_token.migrations.query_token
}

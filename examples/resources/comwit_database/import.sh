# Import a database by its id. The connection token cannot be recovered (Comwit never
# returns it again): it is null in state until you change token_version to rotate it.
terraform import comwit_database.orders db_8a41c0d2e3f4a5b6

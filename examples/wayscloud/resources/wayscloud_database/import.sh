# Import a database by db_type/db_name. WaysCloud never returns a password after create:
# it is null in state until you change password_version to rotate it.
terraform import wayscloud_database.app postgresql/cust_6dd1d906_pg_webapp_prod_db

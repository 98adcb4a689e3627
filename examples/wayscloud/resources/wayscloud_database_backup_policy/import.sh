# Import a database's backup policy by db_type/db_name.
terraform import wayscloud_database_backup_policy.app postgresql/cust_6dd1d906_pg_webapp_prod_db

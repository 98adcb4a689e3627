# Record a restore that already happened (importing runs nothing) by db_type/db_name/snapshot_id.
terraform import wayscloud_database_restore.rollback postgresql/cust_6dd1d906_pg_webapp_prod_db/snap_20251126_143000_a1b2c3d4

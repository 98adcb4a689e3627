# By managed database id (`terraform import` or an import block). The connection string and
# JWT secret are never returned, so the first apply after import sends the configured ones.
terraform import cloudsync_database.app db_0123456789abcdef01234567

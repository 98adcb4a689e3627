# <database_id>/<table>
terraform import cloudsync_table_sync.users db_0123456789abcdef01234567/users

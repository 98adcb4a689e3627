# By database id; the token itself is never returned, so the next apply sets the configured one.
terraform import cloudsync_expo_access_token.push db_0123456789abcdef01234567

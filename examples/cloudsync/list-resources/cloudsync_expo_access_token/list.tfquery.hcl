# The databases with an Expo access token. The token is never returned: add `token` (or
# `token_wo` with `token_wo_version`) to the generated configuration.
list "cloudsync_expo_access_token" "all" {
  provider = cloudsync
}

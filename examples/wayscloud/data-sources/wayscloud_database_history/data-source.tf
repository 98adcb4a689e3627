data "wayscloud_database_history" "all" {}

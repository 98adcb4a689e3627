data "wayscloud_database_engines" "all" {}

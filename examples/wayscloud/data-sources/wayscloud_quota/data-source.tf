data "wayscloud_quota" "all" {}

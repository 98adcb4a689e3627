resource "wayscloud_database_firewall_rule" "office" {
  db_type     = wayscloud_database.app.db_type
  db_name     = wayscloud_database.app.db_name
  ip_address  = "192.0.2.0/24" # an IPv4 address or CIDR block, checked at plan time
  description = "Office network"
}

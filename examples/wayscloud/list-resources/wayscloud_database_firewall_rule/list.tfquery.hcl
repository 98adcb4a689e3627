# The firewall rules of one database; without `config`, those of every database.
list "wayscloud_database_firewall_rule" "webapp" {
  provider = wayscloud
  config {
    db_type = "postgresql"
    db_name = "cust_6dd1d906_pg_webapp_prod_db"
  }
}

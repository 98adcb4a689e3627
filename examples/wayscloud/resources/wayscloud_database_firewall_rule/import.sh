# Import a firewall rule by db_type/db_name/rule_id.
terraform import wayscloud_database_firewall_rule.office postgresql/cust_6dd1d906_pg_webapp_prod_db/1b4e28ba-2fa1-11d2-883f-0016d3cca427

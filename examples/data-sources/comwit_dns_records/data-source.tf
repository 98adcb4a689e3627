data "comwit_dns_records" "apex_mx" {
  domain_id = "dom_5c2e9a1b00112233"
  name      = "@"
  type      = "MX"
}

output "mail_hosts" {
  value = [for r in data.comwit_dns_records.apex_mx.records : r.value]
}

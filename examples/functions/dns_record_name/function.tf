# A hostname's `records` carry FQDNs; in its zone they are `_comwit-challenge.shop` and
# `shop`, the names a `comwit_dns_record` of that zone answers.
output "shop_record_names" {
  value = [
    for r in comwit_app_hostname.shop.records :
    provider::comwit::dns_record_name(r.name, comwit_project_domain.shop.domain)
  ]
}

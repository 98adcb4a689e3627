# "2001:DB8:0::1" as Comwit answers it: "2001:db8::1".
output "canonical_ipv6" {
  value = provider::comwit::dns_record_value("AAAA", "2001:DB8:0::1")
}

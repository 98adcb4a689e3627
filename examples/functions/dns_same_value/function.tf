# Whether the record in the zone already says what we want (true: one TXT text).
output "txt_matches" {
  value = provider::comwit::dns_same_value("TXT", "\"v=spf1 \" \"-all\"", "v=spf1 -all")
}

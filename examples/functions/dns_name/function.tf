# "WWW.Example.COM." as Comwit stores it: "www.example.com".
output "canonical_hostname" {
  value = provider::comwit::dns_name("WWW.Example.COM.")
}

# The A records named `www` of every domain of the provider's project.
list "comwit_dns_record" "www" {
  provider = comwit
  config {
    type = "A"
    name = "www"
  }
}

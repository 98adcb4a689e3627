resource "comwit_project_domain" "main" {
  domain = "example.com"
}

# "@", "example.com" and "example.com." are one name: spelling never plans a change.
resource "comwit_dns_record" "apex" {
  domain_id = comwit_project_domain.main.id
  name      = "@"
  type      = "A"
  value     = "192.0.2.10"
  ttl       = 3600
}

resource "comwit_dns_record" "mail" {
  domain_id = comwit_project_domain.main.id
  name      = "@"
  type      = "MX"
  value     = "mail.example.com."
  priority  = 10
}

resource "comwit_dns_record" "sip" {
  domain_id = comwit_project_domain.main.id
  name      = "_sip._tcp"
  type      = "SRV"
  value     = "sip.example.com"
  priority  = 10
  weight    = 5
  port      = 5060
}

# Over 255 bytes: served split into strings, as DNS stores TXT.
resource "comwit_dns_record" "spf" {
  domain_id = comwit_project_domain.main.id
  name      = "example.com."
  type      = "TXT"
  value     = "v=spf1 include:_spf.example.net ~all"
}

resource "comwit_dns_record" "caa" {
  domain_id = comwit_project_domain.main.id
  name      = "@"
  type      = "CAA"
  value     = "0 issue \"letsencrypt.org\""
}

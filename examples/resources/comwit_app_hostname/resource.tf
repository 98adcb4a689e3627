resource "comwit_app" "web" {
  name = "web"
}

resource "comwit_project_domain" "main" {
  domain = "example.com"
}

# Automatic DNS: Comwit writes the records into example.com's zone, and removes them
# when the hostname goes.
resource "comwit_app_hostname" "www" {
  app_id                = comwit_app.web.id
  hostname              = "www.example.com"
  dns_mode              = "automatic"
  domain_id             = comwit_project_domain.main.id
  wait_for_verification = true
}

# Manual DNS: publish the records wherever the name's zone is hosted; here in another
# Comwit project domain (records[0] is the ownership TXT record, records[1] the route).
resource "comwit_project_domain" "shop" {
  domain = "example.net"
}

resource "comwit_app_hostname" "shop" {
  app_id   = comwit_app.web.id
  hostname = "shop.example.net"
  dns_mode = "manual"
}

resource "comwit_dns_record" "shop" {
  count     = 2
  domain_id = comwit_project_domain.shop.id
  name      = comwit_app_hostname.shop.records[count.index].name
  type      = comwit_app_hostname.shop.records[count.index].type
  value     = comwit_app_hostname.shop.records[count.index].value
  ttl       = comwit_app_hostname.shop.records[count.index].ttl
}

data "comwit_app_hostname" "shop" {
  app_id   = "app_5c2e9a1b00112233"
  hostname = "shop.example.net"
}

output "shop_status" {
  value = data.comwit_app_hostname.shop.status # "verified", or see .missing
}

# After publishing a manual-DNS hostname's records at your DNS provider:
#   terraform apply -invoke=action.comwit_app_hostname_verify.shop
# Each check's progress line names the records still missing.
action "comwit_app_hostname_verify" "shop" {
  config {
    app_id   = comwit_app.web.id
    hostname = comwit_app_hostname.shop.hostname
    timeout  = "15m"
  }
}

list "comwit_app_hostname" "web" {
  provider = comwit
  config {
    app_id          = "app_5c2e9a1b00112233"
    hostname_suffix = "example.com"
  }
}

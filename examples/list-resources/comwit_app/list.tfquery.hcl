list "comwit_app" "web" {
  provider = comwit
  config {
    name_prefix = "web-"
  }
}

# One item per app: its plain variables. Secrets are never returned by Comwit, so they
# are not listed: write them in `secrets` or `secrets_wo` of the generated block.
list "comwit_app_env" "web" {
  provider = comwit
  config {
    app_id = "app_5c2e9a1b00112233"
  }
}

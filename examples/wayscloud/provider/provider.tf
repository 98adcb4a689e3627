terraform {
  required_providers {
    wayscloud = {
      source = "wayscloud/wayscloud"
    }
  }
}

# Every setting can come from the environment instead:
# WAYSCLOUD_API_KEY, WAYSCLOUD_API_URL.
provider "wayscloud" {
  api_key = var.wayscloud_api_key # sent as X-API-Key; keep it out of the configuration

  # api_url = "http://127.0.0.1:8788" # the local emulator: platform-emulator --serve wayscloud=127.0.0.1:8788
  # customer_id = "6dd1d906"         # internal API keys only: act for this customer
}

variable "wayscloud_api_key" {
  type      = string
  sensitive = true
}

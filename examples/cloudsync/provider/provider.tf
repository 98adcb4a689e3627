terraform {
  required_providers {
    cloudsync = { source = "cloudsync/cloudsync" }
  }
}

# api_key and api_url default to CLOUDSYNC_API_KEY and CLOUDSYNC_API_URL.
provider "cloudsync" {
  # api_key = file("cloudsync-key.txt")     # a workspace-admin management key
  # api_url = "http://127.0.0.1:8789"       # the local emulator
  request_timeout_seconds = 30
  max_retries             = 4
}

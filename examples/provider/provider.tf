terraform {
  required_providers {
    comwit = {
      source = "comwit/comwit"
    }
  }
}

# Every setting can come from the environment instead:
# COMWIT_TOKEN, COMWIT_API_URL, COMWIT_PROJECT_ID.
provider "comwit" {
  token      = var.comwit_token # a cwt_ user token; keep it out of the configuration
  project_id = "prj_6f1c2a9d"   # default project for resources that do not set one

  # api_url = "http://127.0.0.1:8787" # the local emulator (scripts/emulator.sh)
}

variable "comwit_token" {
  type      = string
  sensitive = true
}

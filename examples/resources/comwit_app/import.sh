# Import an app by its id.
terraform import comwit_app.web app_5c2e9a1b00112233

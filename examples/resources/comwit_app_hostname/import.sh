# Import an app hostname by <app_id>/<hostname>.
terraform import comwit_app_hostname.www app_5c2e9a1b00112233/www.example.com

# Import a DNS record by <domain_id>/<record_id>.
terraform import comwit_dns_record.apex dom_5c2e9a1b00112233/rec_0a1b2c3d4e5f6a7b

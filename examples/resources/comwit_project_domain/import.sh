# Import a project domain by its id.
terraform import comwit_project_domain.main dom_5c2e9a1b00112233

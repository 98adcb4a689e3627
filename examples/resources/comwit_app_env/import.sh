# Import an app's environment by the app's id. Only plain variables are imported (into
# `vars`): the platform never returns a sensitive value, so write the app's secrets in
# `secrets` or `secrets_wo`; the next apply writes them.
terraform import comwit_app_env.web app_5c2e9a1b00112233

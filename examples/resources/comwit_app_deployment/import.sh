# Import a deployment as app_id/build_id. Then set source_dir (or source_archive) in the
# configuration: when its code is the build's, the next apply records it without a new
# build.
terraform import comwit_app_deployment.web app_5c2e9a1b00112233/bld_0a1b2c3d4e5f6071

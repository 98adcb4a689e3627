# app/index.mjs:
#   export default { async fetch(request, env) { return new Response(`hello ${env.NAME}`); } };
resource "comwit_app_deployment" "web" {
  app_id     = comwit_app.web.id
  source_dir = "${path.module}/app"

  # Defaults: the entry point and how long apply waits for the build.
  entry           = "index.mjs"
  timeout_seconds = 300

  # Roll back: serve an earlier build of the app (see data.comwit_app_builds).
  # Remove the line to serve the build of source_dir again.
  # active_build_id = "bld_0a1b2c3d4e5f6071"

  # The environment is set first, so the new build starts with it.
  depends_on = [comwit_app_env.web]
}

output "web_build" {
  value = comwit_app_deployment.web.build_id
}

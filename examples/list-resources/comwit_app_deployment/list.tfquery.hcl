# The build that serves each app of the provider's project. The generated block has no
# source (Comwit keeps the archive, not where it came from): add `source_dir` with the same
# code, and the plan imports the deployment and records the source without a new build.
list "comwit_app_deployment" "all" {
  provider = comwit
  config {}
}

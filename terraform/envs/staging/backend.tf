# Partial configuration: bucket, key, region and locking come from backend.hcl
#   terraform init -backend-config=backend.hcl
# (`make tf-plan ENV=<env>`, .github/workflows/deploy.yml). `make tf-validate` and the tests
# initialise with -backend=false and never touch the state.
terraform {
  backend "s3" {}
}

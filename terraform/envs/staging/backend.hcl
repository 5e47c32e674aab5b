# State of kass staging: `terraform init -backend-config=backend.hcl` (docs/deploy.md creates the
# bucket). One bucket per account, one key per environment. Locking: S3 native lock file
# (<key>.tflock, Terraform >= 1.10), no DynamoDB lock table.
bucket       = "kass-tfstate-222222222222" # kass-tfstate-<account_id>: set with account_id in terraform.tfvars
key          = "kass/staging/terraform.tfstate"
region       = "ap-northeast-1"
encrypt      = true
use_lockfile = true

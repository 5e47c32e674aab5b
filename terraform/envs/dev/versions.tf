terraform {
  # S3 native state locking (use_lockfile in backend.hcl) needs Terraform 1.10; the tests in
  # tests/ use override_during (1.11). CI pins 1.11.4 (TERRAFORM_VERSION in the workflows).
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.region

  # Credentials of any other account fail every plan and apply before a call is made.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      project     = "kass"
      environment = var.environment
      managed_by  = "terraform"
    }
  }
}

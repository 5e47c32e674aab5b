terraform {
  # mock_provider in tests/*.tftest.hcl needs Terraform 1.7; the module itself runs on 1.6.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

# Plan-level checks with a mocked AWS provider (no credentials, no network):
#   terraform -chdir=terraform/modules/opensearch init -backend=false && terraform -chdir=... test
mock_provider "aws" {
  override_during = plan

  mock_resource "aws_opensearchserverless_collection" {
    defaults = {
      arn                 = "arn:aws:aoss:ap-northeast-1:123456789012:collection/abc123"
      collection_endpoint = "https://abc123.ap-northeast-1.aoss.amazonaws.com"
    }
  }
  mock_resource "aws_opensearch_domain" {
    defaults = {
      arn      = "arn:aws:es:ap-northeast-1:123456789012:domain/kass-dev-idx"
      endpoint = "vpc-kass-dev-idx-abc.ap-northeast-1.es.amazonaws.com"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name_prefix    = "kass-dev"
  principal_arns = ["arn:aws:iam::123456789012:role/kass-dev-vector_search", "arn:aws:iam::123456789012:role/kass-dev-document_processor"]
}

run "serverless_defaults_are_private_to_the_roles_and_encrypted" {
  command = plan

  variables {
    aoss_vpc_endpoint_ids = ["vpce-0aoss0123"]
  }

  assert {
    condition     = aws_opensearchserverless_collection.this[0].type == "VECTORSEARCH"
    error_message = "The collection must be a VECTORSEARCH collection."
  }

  assert {
    condition     = startswith(aws_opensearchserverless_collection.this[0].name, "kass-dev-")
    error_message = "The collection name must carry the environment prefix."
  }

  assert {
    condition     = alltrue([for p in [aws_opensearchserverless_security_policy.encryption[0], aws_opensearchserverless_security_policy.network[0], aws_opensearchserverless_access_policy.data[0]] : startswith(p.name, "kass-dev-")])
    error_message = "Policy names must carry the environment prefix."
  }

  assert {
    condition     = jsondecode(aws_opensearchserverless_security_policy.encryption[0].policy).AWSOwnedKey == true
    error_message = "Without kms_key_arn the encryption policy must use an AWS-owned key."
  }

  assert {
    condition     = jsondecode(aws_opensearchserverless_security_policy.network[0].policy)[0].AllowFromPublic == false
    error_message = "With a VPC endpoint the collection must default to private."
  }

  assert {
    condition     = tolist(jsondecode(aws_opensearchserverless_security_policy.network[0].policy)[0].SourceVPCEs) == tolist(["vpce-0aoss0123"])
    error_message = "The network policy admits the given VPC endpoint."
  }

  assert {
    condition     = toset(jsondecode(aws_opensearchserverless_access_policy.data[0].policy)[0].Principal) == toset(var.principal_arns)
    error_message = "The data access policy must name exactly the function roles."
  }

  assert {
    condition = alltrue(flatten([
      for rule in jsondecode(aws_opensearchserverless_access_policy.data[0].policy)[0].Rules : [
        for permission in rule.Permission : !strcontains(permission, "*")
      ]
    ]))
    error_message = "No wildcard permission in the data access policy."
  }

  assert {
    condition     = contains(jsondecode(aws_opensearchserverless_access_policy.data[0].policy)[0].Rules[0].Resource, "index/kass-dev-idx/kass-chunks")
    error_message = "Index permissions must be scoped to the chunk index."
  }

  assert {
    condition     = !contains(flatten([for rule in jsondecode(aws_opensearchserverless_access_policy.data[0].policy)[0].Rules : rule.Permission]), "aoss:DeleteIndex")
    error_message = "Functions must not be able to delete the index."
  }

  assert {
    condition     = output.service == "aoss" && tolist(output.policy_statements[0].actions) == tolist(["aoss:APIAccessAll"])
    error_message = "Serverless: service aoss and aoss:APIAccessAll only."
  }

  assert {
    condition     = length(aws_opensearch_domain.this) == 0
    error_message = "No domain for engine = serverless."
  }
}

run "customer_key_and_no_vpc_means_public_with_kms" {
  command = plan

  variables {
    kms_key_arn      = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    standby_replicas = false
  }

  assert {
    condition     = jsondecode(aws_opensearchserverless_security_policy.encryption[0].policy).KmsARN == var.kms_key_arn
    error_message = "The encryption policy must use the customer key."
  }

  assert {
    condition     = jsondecode(aws_opensearchserverless_security_policy.network[0].policy)[0].AllowFromPublic == true
    error_message = "Without any VPC endpoint the collection is public (SigV4 + data access policy)."
  }

  assert {
    condition     = aws_opensearchserverless_collection.this[0].standby_replicas == "DISABLED"
    error_message = "standby_replicas = false must disable redundancy."
  }
}

run "managed_domain_is_encrypted_tls12_in_vpc" {
  command = plan

  variables {
    engine             = "domain"
    kms_key_arn        = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    subnet_ids         = ["subnet-0123abcd"]
    security_group_ids = ["sg-0123abcd"]
  }

  assert {
    condition     = aws_opensearch_domain.this[0].encrypt_at_rest[0].enabled && aws_opensearch_domain.this[0].encrypt_at_rest[0].kms_key_id == var.kms_key_arn
    error_message = "The domain must encrypt at rest with the given key."
  }

  assert {
    condition     = aws_opensearch_domain.this[0].node_to_node_encryption[0].enabled
    error_message = "Node-to-node encryption must be on."
  }

  assert {
    condition     = aws_opensearch_domain.this[0].domain_endpoint_options[0].enforce_https && strcontains(aws_opensearch_domain.this[0].domain_endpoint_options[0].tls_security_policy, "TLS-1-2")
    error_message = "HTTPS with TLS 1.2+ must be enforced."
  }

  assert {
    condition     = startswith(aws_opensearch_domain.this[0].domain_name, "kass-dev-")
    error_message = "The domain name must carry the environment prefix."
  }

  assert {
    condition     = output.service == "es" && alltrue([for a in output.policy_statements[0].actions : startswith(a, "es:ESHttp") && !strcontains(a, "*")])
    error_message = "Domain: service es and explicit es:ESHttp* actions, no wildcard."
  }

  assert {
    condition     = length(aws_opensearchserverless_collection.this) == 0
    error_message = "No collection for engine = domain."
  }
}

run "rejects_an_unknown_environment" {
  command = plan

  variables {
    name_prefix = "kass-qa"
  }

  expect_failures = [var.name_prefix]
}

run "longest_prefix_fits_collection_and_domain_names" {
  command = plan

  variables {
    name_prefix = "kass-staging-abcdefghij"
  }

  assert {
    condition     = length(aws_opensearchserverless_collection.this[0].name) <= 32 && length(local.domain_name) <= 28
    error_message = "Collection names are limited to 32 characters, domain names to 28."
  }
}

run "rejects_a_prefix_longer_than_24" {
  command = plan

  variables {
    name_prefix = "kass-staging-abcdefghijkl"
  }

  expect_failures = [var.name_prefix]
}

run "rejects_an_unknown_engine" {
  command = plan

  variables {
    engine = "elasticsearch"
  }

  expect_failures = [var.engine]
}

run "rejects_no_principals" {
  command = plan

  variables {
    principal_arns = []
  }

  expect_failures = [var.principal_arns]
}

run "rejects_a_user_arn_as_principal" {
  command = plan

  variables {
    principal_arns = ["arn:aws:iam::123456789012:user/alice"]
  }

  expect_failures = [var.principal_arns]
}

run "rejects_a_key_alias_instead_of_a_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/kass"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_private_without_a_vpc_endpoint" {
  command = plan

  variables {
    allow_public_access = false
  }

  expect_failures = [aws_opensearchserverless_security_policy.network]
}

run "rejects_a_domain_without_subnets" {
  command = plan

  variables {
    engine = "domain"
  }

  expect_failures = [aws_opensearch_domain.this]
}

run "rejects_a_domain_version_without_hybrid_search" {
  command = plan

  variables {
    domain_engine_version = "OpenSearch_2.9"
  }

  expect_failures = [var.domain_engine_version]
}

# Plan-level checks with a mocked AWS provider: no credentials, no network. Terraform >= 1.11
# (`override_during = plan`); the module itself needs only 1.6.
mock_provider "aws" {
  # A computed ARN is unknown at plan; give the bucket one so the policies can be inspected.
  override_resource {
    target          = aws_s3_bucket.raw
    override_during = plan
    values          = { arn = "arn:aws:s3:::kass-dev-raw" }
  }
}

variables {
  name_prefix = "kass-dev"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "raw_bucket_is_prefixed_private_encrypted_and_versioned" {
  command = plan

  assert {
    condition     = aws_s3_bucket.raw.bucket == "kass-dev-raw" && startswith(output.bucket_name, "kass-dev-")
    error_message = "The raw bucket must be named <name_prefix>-raw (kass.settings' default for kass-dev)."
  }
  assert {
    condition = alltrue([
      for rule in aws_s3_bucket_server_side_encryption_configuration.raw.rule :
      rule.bucket_key_enabled && alltrue([
        for default in rule.apply_server_side_encryption_by_default :
        default.sse_algorithm == "aws:kms" && default.kms_master_key_id == var.kms_key_arn
      ])
    ])
    error_message = "Default encryption must be SSE-KMS with the given key and an S3 bucket key."
  }
  assert {
    condition = (
      aws_s3_bucket_public_access_block.raw.block_public_acls && aws_s3_bucket_public_access_block.raw.block_public_policy &&
      aws_s3_bucket_public_access_block.raw.ignore_public_acls && aws_s3_bucket_public_access_block.raw.restrict_public_buckets
    )
    error_message = "All four public access blocks must be on."
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.raw.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be enabled."
  }
  assert {
    condition     = aws_s3_bucket_notification.raw.eventbridge
    error_message = "EventBridge notifications must be on (they drive document_processor)."
  }
}

run "bucket_policy_only_denies_insecure_transport" {
  command = plan

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_s3_bucket_policy.raw.policy).Statement :
      statement.Effect == "Deny" && statement.Condition.Bool["aws:SecureTransport"] == "false"
    ])
    error_message = "The bucket policy may only deny non-TLS requests; it must grant nothing."
  }
}

run "role_statements_have_no_wildcard_actions" {
  command = plan

  assert {
    condition = alltrue([
      for statement in concat(output.reader_policy_statements, output.writer_policy_statements) :
      alltrue([for action in statement.actions : !strcontains(action, "*")]) &&
      alltrue([for resource in statement.resources : resource != "*"])
    ])
    error_message = "The statements offered to the functions must list explicit actions on explicit resources."
  }
  assert {
    condition     = alltrue([for statement in output.writer_policy_statements : alltrue([for r in statement.resources : startswith(r, "arn:aws:s3:::kass-dev-raw") || r == var.kms_key_arn])])
    error_message = "The writer statements must be scoped to this bucket and its key."
  }
}

run "suffix_makes_a_globally_unique_name" {
  command = plan

  variables {
    bucket_name_suffix = "-123456789012"
  }

  assert {
    condition     = aws_s3_bucket.raw.bucket == "kass-dev-raw-123456789012"
    error_message = "bucket_name_suffix must be appended to the bucket name."
  }
}

run "bad_prefix_is_rejected_at_plan" {
  command = plan

  variables {
    name_prefix = "team-dev"
  }

  expect_failures = [var.name_prefix]
}

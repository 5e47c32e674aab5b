# Plan-level checks with a mocked AWS provider (Terraform >= 1.7; no credentials, no network).
mock_provider "aws" {}

variables {
  name_prefix = "kass-dev"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "tables_are_prefixed_encrypted_and_recoverable" {
  command = plan

  assert {
    condition     = alltrue([for name in values(output.table_names) : startswith(name, "kass-dev-")])
    error_message = "Every table name must start with the name prefix."
  }
  assert {
    condition = alltrue([
      for table in [aws_dynamodb_table.conversations, aws_dynamodb_table.cache, aws_dynamodb_table.checkpoints, aws_dynamodb_table.idempotency, aws_dynamodb_table.actions, aws_dynamodb_table.connections] :
      table.server_side_encryption[0].enabled && table.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    ])
    error_message = "Every table must use SSE-KMS with the given customer key."
  }
  assert {
    condition = alltrue([
      for table in [aws_dynamodb_table.conversations, aws_dynamodb_table.cache, aws_dynamodb_table.checkpoints, aws_dynamodb_table.idempotency, aws_dynamodb_table.actions] :
      table.point_in_time_recovery[0].enabled && table.billing_mode == "PAY_PER_REQUEST" && table.deletion_protection_enabled
    ])
    error_message = "Every table must be on-demand with PITR and deletion protection on by default."
  }
  assert {
    condition     = output.environment_variables.KASS_AWS_CONVERSATIONS_TABLE == "kass-dev-conversations"
    error_message = "The conversations table must match kass.settings' default name for kass-dev."
  }
  assert {
    condition     = aws_dynamodb_table.connections.hash_key == "connection_id" && one(aws_dynamodb_table.connections.attribute).type == "S"
    error_message = "The connections table is keyed on the WebSocket connection id (string)."
  }
  assert {
    condition     = aws_dynamodb_table.connections.ttl[0].enabled && aws_dynamodb_table.connections.ttl[0].attribute_name == "expires_at"
    error_message = "Connection rows whose $disconnect never ran expire through expires_at."
  }
  assert {
    condition     = aws_dynamodb_table.connections.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.connections.deletion_protection_enabled
    error_message = "The connections table is on-demand and deletion-protected by default like the others."
  }
  assert {
    condition     = output.environment_variables.KASS_AWS_CONNECTIONS_TABLE == "kass-dev-connections" && output.table_names.connections == "kass-dev-connections"
    error_message = "stream_handler finds the connections table through KASS_AWS_CONNECTIONS_TABLE."
  }
}

run "bad_prefix_is_rejected_at_plan" {
  command = plan

  variables {
    name_prefix = "kass-qa"
  }

  expect_failures = [var.name_prefix]
}

run "kms_alias_is_rejected_at_plan" {
  command = plan

  variables {
    kms_key_arn = "alias/kass"
  }

  expect_failures = [var.kms_key_arn]
}

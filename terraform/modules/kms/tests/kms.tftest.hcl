# Plan-level checks with a mocked AWS provider (no credentials, no network). The policy document
# is asserted on its configured statements (its rendered json is mocked).
mock_provider "aws" {
  override_during = plan

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

override_data {
  target = data.aws_iam_policy_document.key
  values = {
    json = "{}"
  }
}

variables {
  name_prefix = "kass-dev"
}

run "key_is_rotated_and_aliased" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The key must rotate and keep the 30-day deletion window by default."
  }
  assert {
    condition     = aws_kms_alias.this.name == "alias/kass-dev"
    error_message = "The alias must be alias/<name_prefix>."
  }
}

run "service_statements_are_bound_to_the_account" {
  command = plan

  assert {
    condition     = length(data.aws_iam_policy_document.key.statement) == 4
    error_message = "Account root plus the logs, EventBridge and alarm statements."
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : !contains(s.actions, "kms:*")
    ])
    error_message = "No statement may grant kms:*."
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.key.statement : [
        for p in s.principals : p.type != "Service" || length(s.condition) > 0
      ]
    ]))
    error_message = "Every service statement must carry a condition binding it to this account."
  }
  assert {
    condition = contains(flatten([
      for s in data.aws_iam_policy_document.key.statement : flatten([for c in s.condition : c.values])
    ]), "arn:aws:events:ap-northeast-1:123456789012:rule/kass-dev-*")
    error_message = "EventBridge may use the key only for this environment's rules."
  }
}

run "services_can_be_left_out" {
  command = plan

  variables {
    allow_cloudwatch_logs     = false
    allow_eventbridge_rules   = false
    allow_alarm_notifications = false
  }

  assert {
    condition     = length(data.aws_iam_policy_document.key.statement) == 1
    error_message = "Only the account statement remains."
  }
}

run "bad_prefix_is_rejected_at_plan" {
  command = plan

  variables {
    name_prefix = "kass-qa"
  }

  expect_failures = [var.name_prefix]
}

run "deletion_window_out_of_range_is_rejected_at_plan" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}

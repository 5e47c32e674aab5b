# Plan-level checks with a mocked AWS provider: no credentials, no network. Terraform >= 1.11
# (`override_during = plan`); the module itself needs only 1.6.
mock_provider "aws" {
  override_resource {
    target          = aws_cloudwatch_log_group.this
    override_during = plan
    values          = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/kass-dev-vector-search" }
  }
  override_resource {
    target          = aws_sqs_queue.dlq
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:kass-dev-vector-search-dlq" }
  }
}

variables {
  name_prefix     = "kass-dev"
  name            = "vector_search"
  zip_path        = "tests/fixtures/handler.zip"
  kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:kass-dev-alarms"
  policy_statements = [{
    sid       = "ReadCache"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/kass-dev-cache"]
  }]
  environment_variables = { KASS_PROFILE = "aws" }
}

run "function_is_prefixed_traced_encrypted_with_dlq" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.function_name == "kass-dev-vector-search" && aws_iam_role.this.name == "kass-dev-vector-search"
    error_message = "Function and role must be named <name_prefix>-<name> with _ as -."
  }
  assert {
    condition     = aws_lambda_function.this.handler == "handler.lambda_handler" && aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "Defaults must be handler.lambda_handler on python3.12 arm64 (make build's target)."
  }
  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active" && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "Active tracing and KMS-encrypted environment variables are required."
  }
  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && one(aws_lambda_function.this.dead_letter_config).target_arn == aws_sqs_queue.dlq.arn
    error_message = "Asynchronous failures must go to the module's KMS-encrypted DLQ."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.POWERTOOLS_SERVICE_NAME == "vector_search" && aws_lambda_function.this.environment[0].variables.KASS_PROFILE == "aws"
    error_message = "Powertools variables are set by the module and KASS_* variables are passed through."
  }
  assert {
    condition     = length(aws_lambda_alias.live) == 0 && !aws_lambda_function.this.publish
    error_message = "Without SnapStart nothing is published and there is no alias."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration_p95.threshold == 24000
    error_message = "The p95 duration alarm must fire at 80 % of the 30 s timeout."
  }
}

run "role_policy_has_only_explicit_actions" {
  command = plan

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Effect == "Allow" && alltrue([for action in statement.Action : !strcontains(action, "*")])
    ])
    error_message = "No statement of the role may use a wildcard action."
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Sid == "XRayTraces" || alltrue([for resource in statement.Resource : resource != "*"])
    ])
    error_message = "Only the X-Ray statement (no resource-level permissions) may use Resource *."
  }
  assert {
    condition     = contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid], "ReadCache")
    error_message = "The statements passed in must be in the role policy."
  }
  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc) == 0
    error_message = "Outside a VPC the role gets no VPC permissions."
  }
}

run "snapstart_publishes_and_routes_through_alias" {
  command = plan

  variables {
    snapstart = true
  }

  assert {
    condition     = aws_lambda_function.this.publish && one(aws_lambda_function.this.snap_start).apply_on == "PublishedVersions" && aws_lambda_alias.live[0].name == "live"
    error_message = "SnapStart must publish versions and create the live alias."
  }
  assert {
    condition     = output.qualifier == "live"
    error_message = "Callers must be pointed at the live alias."
  }
}

run "wildcard_action_is_rejected_at_plan" {
  command = plan

  variables {
    policy_statements = [{ sid = "Everything", actions = ["dynamodb:*"], resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/kass-dev-cache"] }]
  }

  expect_failures = [var.policy_statements]
}

run "wildcard_resource_is_rejected_at_plan" {
  command = plan

  variables {
    policy_statements = [{ sid = "Anywhere", actions = ["dynamodb:GetItem"], resources = ["*"] }]
  }

  expect_failures = [var.policy_statements]
}

run "retention_outside_cloudwatch_values_is_rejected_at_plan" {
  command = plan

  variables {
    log_retention_days = 10
  }

  expect_failures = [var.log_retention_days]
}

run "empty_subnet_list_is_rejected_at_plan" {
  command = plan

  variables {
    vpc_config = { subnet_ids = [], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  expect_failures = [var.vpc_config]
}

run "snapstart_on_python311_is_rejected_at_plan" {
  command = plan

  variables {
    snapstart = true
    runtime   = "python3.11"
  }

  expect_failures = [aws_lambda_function.this]
}

run "secret_like_environment_key_is_rejected_at_plan" {
  command = plan

  variables {
    environment_variables = { SLACK_TOKEN = "xoxb-..." }
  }

  expect_failures = [var.environment_variables]
}

# Plan-level checks with a mocked AWS provider (no credentials, no network). The plan renders
# monitoring/dashboard.json.tftpl and reads monitoring/alarms.json, so a broken definition fails here.
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
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:ap-northeast-1:123456789012:kass-dev-alarms" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:mock" }
  }
}

variables {
  name_prefix              = "kass-dev"
  create_function_alarms   = true
  function_names           = ["kass-dev-orchestrator", "kass-dev-vector_search", "kass-dev-document_processor", "kass-dev-data_fetcher"]
  latency_p95_threshold_ms = { "kass-dev-vector_search" = 1500 }
  dlq_names                = ["kass-dev-document_processor-dlq"]
  api_gateway              = { name = "kass-dev-api", stage = "v1" }
  monthly_budget_usd       = 150
  alarm_emails             = ["oncall@example.com"]
}

run "alarms_topic_budget_and_dashboard" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 4 * 3 + 1 + 1
    error_message = "Errors, throttles and p95 per function, one per DLQ, one for API 5xx."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda_duration_p95 kass-dev-vector_search"].threshold == 1500 && aws_cloudwatch_metric_alarm.this["lambda_duration_p95 kass-dev-orchestrator"].threshold == 10000
    error_message = "Per-function p95 thresholds override the default from monitoring/alarms.json."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda_duration_p95 kass-dev-orchestrator"].extended_statistic == "p95"
    error_message = "The latency alarm uses the p95 extended statistic."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api_5xx kass-dev-api"].dimensions["Stage"] == "v1"
    error_message = "The API alarm is on the stage."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : startswith(a.alarm_name, "kass-dev-") && contains(a.alarm_actions, aws_sns_topic.alarms.arn)])
    error_message = "Alarms are prefixed and notify the topic."
  }

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms[0].arn && aws_kms_key.alarms[0].enable_key_rotation
    error_message = "The topic is encrypted with a rotated customer key."
  }

  assert {
    condition     = aws_budgets_budget.monthly.limit_amount == "150.00" && length(aws_budgets_budget.monthly.notification) == 2
    error_message = "Monthly budget with actual and forecast notifications."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 12
    error_message = "Dashboard: header, alarms, 5 Lambda, 2 API, DLQ, 2 kass widgets (no SageMaker)."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "kass-dev-vector_search") && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "Namespace=\\\"kass\\\"")
    error_message = "The dashboard charts the functions and the kass namespace."
  }
}

run "budget_by_tag_and_given_key" {
  command = plan

  variables {
    budget_cost_tag         = { key = "Environment", value = "dev" }
    create_kms_key          = false
    kms_key_arn             = "arn:aws:kms:ap-northeast-1:123456789012:key/99999999-2222-3333-4444-555555555555"
    sagemaker_endpoint_name = "kass-dev-llm"
    api_gateway             = null
    dlq_names               = []
    create_function_alarms  = false
    extra_alarm_arns        = ["arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:kass-dev-orchestrator-errors"]
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0
    error_message = "Function alarms are left to the lambda module by default."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "alarm:kass-dev-orchestrator-errors")
    error_message = "Alarms created elsewhere show in the dashboard."
  }

  assert {
    condition     = one([for f in aws_budgets_budget.monthly.cost_filter : f.values[0]]) == "user:Environment$dev"
    error_message = "The tag filter is user:<key>$<value>."
  }

  assert {
    condition     = length(aws_kms_key.alarms) == 0 && aws_sns_topic.alarms.kms_master_key_id == var.kms_key_arn
    error_message = "A given key is used, none created."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "AWS/SageMaker") && !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "AWS/ApiGateway")
    error_message = "Optional widgets follow the inputs."
  }
}

run "rejects_no_functions" {
  command = plan

  variables {
    function_names = []
  }

  expect_failures = [var.function_names]
}

run "rejects_a_function_arn" {
  command = plan

  variables {
    function_names = ["arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-orchestrator"]
  }

  expect_failures = [var.function_names]
}

run "rejects_a_zero_budget" {
  command = plan

  variables {
    monthly_budget_usd = 0
  }

  expect_failures = [var.monthly_budget_usd]
}

run "rejects_a_queue_url" {
  command = plan

  variables {
    dlq_names = ["https://sqs.ap-northeast-1.amazonaws.com/123456789012/kass-dev-dlq"]
  }

  expect_failures = [var.dlq_names]
}

run "key_arn_without_turning_off_the_module_key_is_rejected_at_plan" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/99999999-2222-3333-4444-555555555555"
  }

  expect_failures = [aws_sns_topic.alarms]
}

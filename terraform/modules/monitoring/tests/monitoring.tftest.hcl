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
  websocket_api            = { id = "ws123defgh", name = "kass-dev-stream", stage = "v1" }
  monthly_budget_usd       = 150
  alarm_emails             = ["oncall@example.com"]
}

run "alarms_topic_budget_and_dashboard" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 4 * 3 + 1 + 1 + 2 + 1
    error_message = "Errors, throttles and p95 per function, one per DLQ, one for API 5xx, two for the WebSocket API, one for its function's StreamErrors."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api_5xx kass-dev-api"].alarm_name == "kass-dev-api-5xx-kass-dev-api-v1" && aws_cloudwatch_metric_alarm.this["lambda_errors kass-dev-orchestrator"].alarm_name == "kass-dev-lambda-errors-kass-dev-orchestrator" && aws_cloudwatch_metric_alarm.this["dlq_depth kass-dev-document_processor-dlq"].dimensions == tomap({ QueueName = "kass-dev-document_processor-dlq" })
    error_message = "Alarm keys, names and dimensions stay as they were (a renamed alarm is replaced, and loses its history)."
  }

  assert {
    condition = alltrue([for d in ["websocket_integration_errors", "websocket_execution_errors"] :
      aws_cloudwatch_metric_alarm.this["${d} kass-dev-stream"].namespace == "AWS/ApiGateway"
      && aws_cloudwatch_metric_alarm.this["${d} kass-dev-stream"].dimensions == tomap({ ApiId = "ws123defgh", Stage = "v1" })
      && aws_cloudwatch_metric_alarm.this["${d} kass-dev-stream"].threshold == 5
      && aws_cloudwatch_metric_alarm.this["${d} kass-dev-stream"].alarm_name == "kass-dev-${replace(d, "_", "-")}-kass-dev-stream-v1"
    ])
    error_message = "The WebSocket alarms are on the API ID and stage (the v2 metrics' dimensions), at the REST 5xx threshold."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["websocket_integration_errors kass-dev-stream"].metric_name == "IntegrationError" && aws_cloudwatch_metric_alarm.this["websocket_execution_errors kass-dev-stream"].metric_name == "ExecutionError"
    error_message = "One alarm on the function's failures, one on API Gateway failing to call it."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["stream_errors stream_handler"].namespace == "kass"
      && aws_cloudwatch_metric_alarm.this["stream_errors stream_handler"].metric_name == "StreamErrors"
      && aws_cloudwatch_metric_alarm.this["stream_errors stream_handler"].dimensions == tomap({ service = "stream_handler" })
      && aws_cloudwatch_metric_alarm.this["stream_errors stream_handler"].evaluation_periods == 3
      && aws_cloudwatch_metric_alarm.this["stream_errors stream_handler"].datapoints_to_alarm == 2
    )
    error_message = "StreamErrors is alarmed in the custom namespace on Powertools' service dimension, in 2 of 3 periods."
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
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 16
    error_message = "Dashboard: header, alarms, 5 Lambda, 2 REST API, 3 WebSocket API + streaming, DLQ, 2 kass widgets (no SageMaker)."
  }

  assert {
    condition = alltrue([for m in [["AWS/ApiGateway", "IntegrationError", "ApiId", "ws123defgh", "Stage", "v1"], ["AWS/ApiGateway", "5XXError", "ApiName", "kass-dev-api", "Stage", "v1"]] :
      anytrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : contains(try(w.properties.metrics, []), m)])
    ])
    error_message = "The API widgets chart the WebSocket API by ApiId and Stage, the REST API by ApiName and Stage."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "MetricName=\\\"StreamClientGone\\\"") && strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "MetricName=\\\"StreamErrors\\\"")
    error_message = "The streaming widget charts stream_handler's own metrics."
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
    websocket_api           = null
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
    condition     = strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "AWS/SageMaker") && !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "AWS/ApiGateway") && !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "StreamErrors")
    error_message = "Optional widgets follow the inputs."
  }
}

run "stream_errors_follow_the_metrics_namespace_and_service" {
  command = plan

  variables {
    metrics_namespace = "kass-canary"
    websocket_api     = { id = "ws123defgh", name = "kass-dev-stream", stage = "v1", service = "streamer" }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stream_errors streamer"].namespace == "kass-canary" && aws_cloudwatch_metric_alarm.this["stream_errors streamer"].dimensions["service"] == "streamer"
    error_message = "A definition without a namespace alarms on the custom metrics namespace, for the given service."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api_5xx kass-dev-api"].namespace == "AWS/ApiGateway"
    error_message = "Definitions with a namespace keep it."
  }
}

run "rejects_a_websocket_url_as_api_id" {
  command = plan

  variables {
    websocket_api = { id = "wss://ws123defgh.execute-api.ap-northeast-1.amazonaws.com/v1", name = "kass-dev-stream", stage = "v1" }
  }

  expect_failures = [var.websocket_api]
}

run "rejects_a_websocket_stage_path" {
  command = plan

  variables {
    websocket_api = { id = "ws123defgh", name = "kass-dev-stream", stage = "/v1" }
  }

  expect_failures = [var.websocket_api]
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

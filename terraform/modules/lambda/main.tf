# One kass function: prebuilt zip + layers, its own role with only the statements passed in,
# log group, encrypted DLQ for asynchronous invocations, reserved concurrency, X-Ray active
# tracing, optional VPC and SnapStart, and alarms on errors, throttles and p95 duration.

locals {
  function_name  = "${var.name_prefix}-${replace(var.name, "_", "-")}"
  log_group_name = "/aws/lambda/${local.function_name}"
  partition      = split(":", var.kms_key_arn)[1] # "aws", "aws-cn", "aws-us-gov"

  environment = merge(
    {
      POWERTOOLS_SERVICE_NAME      = var.name
      POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
      POWERTOOLS_LOG_LEVEL         = var.log_level
    },
    var.environment_variables,
  )

  # What every function needs, scoped to this function's own resources. X-Ray has no
  # resource-level permissions, so its actions take "*" (AWS's AWSXRayDaemonWriteAccess does
  # the same); they only write traces and read sampling rules.
  base_statements = [
    {
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    },
    {
      Sid      = "XRayTraces"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
      Resource = ["*"]
    },
    {
      Sid      = "SendFailedEventsToDlq"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.dlq.arn]
    },
    {
      Sid      = "UseFunctionKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
    },
  ]

  passed_statements = [
    for statement in var.policy_statements : {
      Sid      = statement.sid
      Effect   = "Allow"
      Action   = statement.actions
      Resource = statement.resources
    }
  ]
}

resource "aws_iam_role" "this" {
  name        = local.function_name
  description = "Execution role of ${local.function_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "${local.function_name}-permissions"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.base_statements, local.passed_statements)
  })
}

# Lambda's VPC networking needs ec2:CreateNetworkInterface and ec2:DescribeNetworkInterfaces on
# "*" (they take no resource ARNs): AWS's managed policy for exactly that, only when in a VPC.
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = var.vpc_config == null ? 0 : 1
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:KMS for logs is optional (log_kms_key_arn); it needs a key policy for the CloudWatch Logs service, and without one logs are still encrypted at rest by CloudWatch.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost decision (log_retention_days, validated against CloudWatch's allowed values); dev keeps days, prod a year or more.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# Asynchronous invocations (schedules, EventBridge) that still fail after the retries.
resource "aws_sqs_queue" "dlq" {
  name                              = "${local.function_name}-dlq"
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The VPC is optional per environment (vpc_config): the functions call only IAM-authenticated AWS APIs over TLS, and data_fetcher must reach GitLab, Slack and Backlog on the internet.
  #checkov:skip=CKV_AWS_272:Code signing is optional (code_signing_config_arn): zips are built reproducibly by `make build` in CI and deployed by the same pipeline.
  function_name                  = local.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  layers                         = var.layer_arns
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn
  publish                        = var.snapstart

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  dynamic "snap_start" {
    for_each = var.snapstart ? [1] : []
    content {
      apply_on = "PublishedVersions"
    }
  }

  # Lambda checks at creation that the role may send to the DLQ and create VPC interfaces.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc,
  ]

  lifecycle {
    precondition {
      condition     = !var.snapstart || contains(["python3.12", "python3.13"], var.runtime)
      error_message = "SnapStart for Python needs python3.12 or later: set runtime = \"python3.12\" or snapstart = false."
    }
  }
}

# SnapStart restores only published versions: callers go through this alias.
resource "aws_lambda_alias" "live" {
  count            = var.snapstart ? 1 : 0
  name             = "live"
  description      = "The version published by the last deploy (SnapStart)"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  qualifier                    = var.snapstart ? aws_lambda_alias.live[0].name : "$LATEST"
  maximum_retry_attempts       = var.async_max_retry_attempts
  maximum_event_age_in_seconds = var.async_max_event_age_seconds
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.function_name}-errors"
  alarm_description   = "${local.function_name}: invocations that raised or timed out (runbook: docs/deploy.md)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = var.alarm_errors_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${local.function_name}-throttles"
  alarm_description   = "${local.function_name}: invocations refused for lack of concurrency (reserved_concurrency ${var.reserved_concurrency})."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "duration_p95" {
  alarm_name          = "${local.function_name}-duration-p95"
  alarm_description   = "${local.function_name}: p95 duration above ${var.alarm_duration_ratio * 100} % of the ${var.timeout_seconds} s timeout."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p95"
  period              = var.alarm_period_seconds
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.timeout_seconds * 1000 * var.alarm_duration_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

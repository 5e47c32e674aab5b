# Alarms, their SNS topic, the cost budget and the dashboard. Definitions (what is charted,
# thresholds, periods) live in the repository's monitoring/ folder; this module instantiates
# them for the functions, queues and API passed in.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  definitions_dir = coalesce(var.definitions_dir, "${path.module}/../../../monitoring")
  alarm_defs      = jsondecode(file("${local.definitions_dir}/alarms.json"))

  topic_name  = "${var.name_prefix}-alarms"
  create_key  = var.create_kms_key # a known input: a key ARN made in the same apply is unknown at plan
  kms_key_arn = local.create_key ? aws_kms_key.alarms[0].arn : var.kms_key_arn

  functions = var.create_function_alarms ? toset(var.function_names) : toset([])
  dlqs      = toset(var.dlq_names)

  # Metric dimensions of the APIs, shared by their alarms and their dashboard widgets.
  rest_api_dimensions      = var.api_gateway == null ? {} : { ApiName = var.api_gateway.name, Stage = var.api_gateway.stage }
  websocket_api_dimensions = var.websocket_api == null ? {} : { ApiId = var.websocket_api.id, Stage = var.websocket_api.stage }

  # What each definition's "subject" kind alarms on: key (known at plan: names, never IDs) =>
  # dimensions and the label in the alarm name. A new alarm kind on one of these needs only a
  # definition in alarms.json.
  subjects = {
    function = { for f in local.functions : f => { dimensions = { FunctionName = f }, label = f } }
    dlq      = { for q in local.dlqs : q => { dimensions = { QueueName = q }, label = q } }
    rest_api = var.api_gateway == null ? {} : {
      (var.api_gateway.name) = { dimensions = local.rest_api_dimensions, label = "${var.api_gateway.name}/${var.api_gateway.stage}" }
    }
    websocket_api = var.websocket_api == null ? {} : {
      (var.websocket_api.name) = { dimensions = local.websocket_api_dimensions, label = "${var.websocket_api.name}/${var.websocket_api.stage}" }
    }
    # Powertools metrics of the function behind the WebSocket API (dimension service only).
    stream_service = var.websocket_api == null ? {} : {
      (var.websocket_api.service) = { dimensions = { service = var.websocket_api.service }, label = var.websocket_api.service }
    }
  }
  # Per-subject threshold overrides, by definition.
  threshold_overrides = { lambda_duration_p95 = var.latency_p95_threshold_ms }

  # One alarm per (definition, subject). Keys are stable: "<definition> <subject key>".
  alarms = merge([
    for d, def in local.alarm_defs : {
      for k, s in local.subjects[def.subject] : "${d} ${k}" => {
        def        = d
        dimensions = s.dimensions
        subject    = s.label
        threshold  = lookup(lookup(local.threshold_overrides, d, {}), k, null)
      }
    }
  ]...)
}

# -------------------------------------------------------------------------------------------
# Alarm topic (KMS-encrypted) and subscriptions
# -------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "alarms_key" {
  #checkov:skip=CKV_AWS_111: a key policy: Resource "*" is the key itself; principals are the account root (IAM decides) and two services bound by aws:SourceAccount
  #checkov:skip=CKV_AWS_356: a key policy: Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_109: a key policy must let the account administer its key (PutKeyPolicy, CreateGrant); no other principal gets them
  statement {
    sid = "AccountAdministersAndUsesTheKey"
    # Explicit actions, no kms:*; IAM policies of the account decide who may use them.
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
      "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
      "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
      "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReEncryptFrom",
      "kms:ReEncryptTo", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
      "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "AlarmAndBudgetServicesPublishEncrypted"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_kms_key" "alarms" {
  count = local.create_key ? 1 : 0

  description             = "kass ${var.name_prefix}: alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.alarms_key.json
}

resource "aws_kms_alias" "alarms" {
  count = local.create_key ? 1 : 0

  name          = "alias/${local.topic_name}"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  name              = local.topic_name
  display_name      = "kass ${var.name_prefix} alarms"
  kms_master_key_id = local.kms_key_arn

  lifecycle {
    precondition {
      condition     = var.create_kms_key == (var.kms_key_arn == null)
      error_message = "Either keep create_kms_key = true and kms_key_arn = null (the module makes the topic's key), or set create_kms_key = false and kms_key_arn to your key's ARN."
    }
  }
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid = "AccountManagesTheTopic"
    actions = [
      "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
      "sns:Publish", "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
    ]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "AlarmsAndBudgetsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.key
}

# -------------------------------------------------------------------------------------------
# Alarms (definitions: monitoring/alarms.json)
# -------------------------------------------------------------------------------------------
resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${replace(each.value.def, "_", "-")}-${replace(each.value.subject, "/", "-")}"
  alarm_description   = local.alarm_defs[each.value.def].description
  namespace           = lookup(local.alarm_defs[each.value.def], "namespace", var.metrics_namespace) # none: kass's own metrics
  metric_name         = local.alarm_defs[each.value.def].metric
  dimensions          = each.value.dimensions
  statistic           = lookup(local.alarm_defs[each.value.def], "statistic", null)
  extended_statistic  = lookup(local.alarm_defs[each.value.def], "extended_statistic", null)
  period              = local.alarm_defs[each.value.def].period_seconds
  evaluation_periods  = local.alarm_defs[each.value.def].evaluation_periods
  datapoints_to_alarm = local.alarm_defs[each.value.def].datapoints_to_alarm
  comparison_operator = local.alarm_defs[each.value.def].comparison
  threshold           = coalesce(each.value.threshold, local.alarm_defs[each.value.def].threshold)
  treat_missing_data  = local.alarm_defs[each.value.def].treat_missing_data
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# -------------------------------------------------------------------------------------------
# Cost: AWS Budgets (global; works from any region, forecasts, filters by tag)
# -------------------------------------------------------------------------------------------
resource "aws_budgets_budget" "monthly" {
  name         = "${var.name_prefix}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = var.budget_cost_tag == null ? [] : [var.budget_cost_tag]
    content {
      name   = "TagKeyValue"
      values = [format("user:%s$%s", cost_filter.value.key, cost_filter.value.value)]
    }
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 80
    threshold_type            = "PERCENTAGE"
    notification_type         = "ACTUAL"
    subscriber_sns_topic_arns = [aws_sns_topic.alarms.arn]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [aws_sns_topic.alarms.arn]
  }

  depends_on = [aws_sns_topic_policy.alarms]
}

# -------------------------------------------------------------------------------------------
# Dashboard (template: monitoring/dashboard.json.tftpl)
# -------------------------------------------------------------------------------------------
resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-overview"
  # Decode and re-encode: a template that renders invalid JSON fails the plan, not the apply.
  dashboard_body = jsonencode(jsondecode(templatefile("${local.definitions_dir}/dashboard.json.tftpl", {
    title              = "kass ${var.name_prefix}"
    region             = local.region
    namespace          = var.metrics_namespace
    topic_name         = local.topic_name
    functions          = var.function_names
    dlqs               = var.dlq_names
    rest_api           = flatten([for k, v in local.rest_api_dimensions : [k, v]]) # [] when none
    websocket_api      = flatten([for k, v in local.websocket_api_dimensions : [k, v]])
    sagemaker_endpoint = var.sagemaker_endpoint_name == null ? "" : var.sagemaker_endpoint_name
    alarm_arns         = sort(distinct(concat([for a in aws_cloudwatch_metric_alarm.this : a.arn], var.extra_alarm_arns)))
  })))
}

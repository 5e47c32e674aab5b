# Ingestion wiring:
#   schedule rule per connector -> data_fetcher {"connector": <name>}
#   raw bucket "Object Created"/"Object Deleted" under raw/ -> SQS (+ DLQ) -> document_processor
# Events EventBridge cannot deliver (permissions, throttling beyond its retries) go to an
# encrypted events DLQ instead of being dropped.

locals {
  visibility_timeout = coalesce(var.queue_visibility_timeout_seconds, 6 * var.processor_timeout_seconds + var.batching_window_seconds)
}

# -- schedules -----------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each            = var.schedules
  name                = "${var.name_prefix}-fetch-${replace(each.key, "_", "-")}"
  description         = "Run the ${each.key} connector (data_fetcher)"
  schedule_expression = each.value
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each  = var.schedules
  rule      = aws_cloudwatch_event_rule.schedule[each.key].name
  target_id = "data-fetcher"
  arn       = var.data_fetcher_arn
  input     = jsonencode({ connector = each.key })

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_lambda_permission" "schedule" {
  for_each      = var.schedules
  statement_id  = "AllowSchedule-${replace(each.key, "_", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = var.data_fetcher_function_name
  qualifier     = var.data_fetcher_qualifier
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# -- raw bucket object events -> queue -> processor ------------------------------------------

resource "aws_cloudwatch_event_rule" "objects" {
  name        = "${var.name_prefix}-raw-object-changes"
  description = "Raw documents created or deleted under ${var.key_prefix} in ${var.bucket_name}"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created", "Object Deleted"]
    detail = {
      bucket = { name = [var.bucket_name] }
      object = { key = [{ prefix = var.key_prefix }] }
    }
  })
}

resource "aws_cloudwatch_event_target" "objects" {
  rule      = aws_cloudwatch_event_rule.objects.name
  target_id = "document-events-queue"
  arn       = aws_sqs_queue.objects.arn

  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }

  depends_on = [aws_sqs_queue_policy.objects]
}

resource "aws_sqs_queue" "objects" {
  name                              = "${var.name_prefix}-document-events"
  visibility_timeout_seconds        = local.visibility_timeout
  message_retention_seconds         = var.message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.objects_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = local.visibility_timeout >= 6 * var.processor_timeout_seconds + var.batching_window_seconds
      error_message = "queue_visibility_timeout_seconds must be at least 6 x processor_timeout_seconds + batching_window_seconds (${6 * var.processor_timeout_seconds + var.batching_window_seconds} s): raise it or leave it null."
    }
  }
}

# Document events that failed max_receive_count times (bad records fail alone: ADR 0007).
resource "aws_sqs_queue" "objects_dlq" {
  name                              = "${var.name_prefix}-document-events-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue_redrive_allow_policy" "objects_dlq" {
  queue_url = aws_sqs_queue.objects_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.objects.arn]
  })
}

resource "aws_sqs_queue_policy" "objects" {
  queue_url = aws_sqs_queue.objects.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeSendsObjectChanges"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.objects.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.objects.arn } }
    }]
  })
}

resource "aws_lambda_event_source_mapping" "objects" {
  event_source_arn                   = aws_sqs_queue.objects.arn
  function_name                      = var.processor_arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.maximum_concurrency == null ? [] : [var.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  lifecycle {
    precondition {
      condition     = var.batch_size <= 10 || var.batching_window_seconds >= 1
      error_message = "An SQS batch_size above 10 needs batching_window_seconds >= 1: set batching_window_seconds or lower batch_size to 10."
    }
  }
}

# -- events EventBridge could not deliver ----------------------------------------------------

resource "aws_sqs_queue" "events_dlq" {
  name                              = "${var.name_prefix}-eventbridge-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeSendsUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.events_dlq.arn
      Condition = {
        ArnEquals = {
          "aws:SourceArn" = concat([aws_cloudwatch_event_rule.objects.arn], [for rule in aws_cloudwatch_event_rule.schedule : rule.arn])
        }
      }
    }]
  })
}

# Plan-level checks with a mocked AWS provider: no credentials, no network. Terraform >= 1.11
# (`override_during = plan`); the module itself needs only 1.6.
mock_provider "aws" {
  override_resource {
    target          = aws_sqs_queue.objects
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:kass-dev-document-events" }
  }
  override_resource {
    target          = aws_sqs_queue.objects_dlq
    override_during = plan
    values          = { arn = "arn:aws:sqs:us-east-1:123456789012:kass-dev-document-events-dlq" }
  }
}

variables {
  name_prefix                = "kass-dev"
  kms_key_arn                = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  schedules                  = { gitlab = "rate(15 minutes)", backlog = "cron(0/30 * * * ? *)" }
  data_fetcher_function_name = "kass-dev-data-fetcher"
  data_fetcher_arn           = "arn:aws:lambda:us-east-1:123456789012:function:kass-dev-data-fetcher"
  bucket_name                = "kass-dev-raw"
  processor_arn              = "arn:aws:lambda:us-east-1:123456789012:function:kass-dev-document-processor"
  processor_timeout_seconds  = 60
}

run "schedules_name_their_connector" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.schedule["gitlab"].input).connector == "gitlab" && aws_cloudwatch_event_rule.schedule["backlog"].name == "kass-dev-fetch-backlog"
    error_message = "Each schedule must be prefixed and invoke data_fetcher with {\"connector\": <name>}."
  }
  assert {
    condition     = alltrue([for p in aws_lambda_permission.schedule : p.principal == "events.amazonaws.com" && p.action == "lambda:InvokeFunction"])
    error_message = "Each schedule needs its own invoke permission for EventBridge."
  }
}

run "object_events_reach_the_processor_through_an_encrypted_queue" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.objects.event_pattern)["detail-type"] == ["Object Created", "Object Deleted"]
    error_message = "The rule must route Object Created and Object Deleted."
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.objects.event_pattern).detail.bucket.name == ["kass-dev-raw"]
    error_message = "The rule must match only the raw bucket."
  }
  assert {
    condition     = alltrue([for q in [aws_sqs_queue.objects, aws_sqs_queue.objects_dlq, aws_sqs_queue.events_dlq] : q.kms_master_key_id == var.kms_key_arn && startswith(q.name, "kass-dev-")])
    error_message = "Every queue must be prefixed and KMS-encrypted with the given key."
  }
  assert {
    condition     = aws_sqs_queue.objects.visibility_timeout_seconds == 360
    error_message = "The visibility timeout defaults to 6x the processor timeout."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.objects.redrive_policy).maxReceiveCount == 5
    error_message = "Failed records must move to the DLQ after max_receive_count receives."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.objects.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The processor reports failed records alone (partial batch response)."
  }
  assert {
    condition     = alltrue([for s in output.processor_policy_statements : alltrue([for a in s.actions : !strcontains(a, "*")])])
    error_message = "The processor's statements must list explicit actions."
  }
}

run "short_visibility_timeout_is_rejected_at_plan" {
  command = plan

  variables {
    queue_visibility_timeout_seconds = 120
  }

  expect_failures = [aws_sqs_queue.objects]
}

run "bad_schedule_expression_is_rejected_at_plan" {
  command = plan

  variables {
    schedules = { gitlab = "every 15 minutes" }
  }

  expect_failures = [var.schedules]
}

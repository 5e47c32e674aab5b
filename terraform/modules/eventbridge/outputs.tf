output "schedule_rule_arns" {
  description = "Schedule rule ARN per connector."
  value       = { for name, rule in aws_cloudwatch_event_rule.schedule : name => rule.arn }
}

output "object_rule_arn" {
  description = "ARN of the raw bucket's Object Created/Deleted rule."
  value       = aws_cloudwatch_event_rule.objects.arn
}

output "queue_arn" {
  description = "ARN of the document events queue that feeds document_processor."
  value       = aws_sqs_queue.objects.arn
}

output "queue_url" {
  description = "URL of the document events queue."
  value       = aws_sqs_queue.objects.id
}

output "queue_name" {
  description = "Name of the document events queue (AWS/SQS metrics)."
  value       = aws_sqs_queue.objects.name
}

output "queue_visibility_timeout_seconds" {
  description = "Visibility timeout the queue got (6x the processor timeout + batching window unless set)."
  value       = aws_sqs_queue.objects.visibility_timeout_seconds
}

output "dlq_arn" {
  description = "ARN of the document events DLQ (records that failed max_receive_count times)."
  value       = aws_sqs_queue.objects_dlq.arn
}

output "dlq_name" {
  description = "Name of the document events DLQ (for a depth alarm)."
  value       = aws_sqs_queue.objects_dlq.name
}

output "events_dlq_arn" {
  description = "ARN of the queue receiving events EventBridge could not deliver to a target."
  value       = aws_sqs_queue.events_dlq.arn
}

output "events_dlq_name" {
  description = "Name of the EventBridge delivery DLQ (for a depth alarm)."
  value       = aws_sqs_queue.events_dlq.name
}

output "event_source_mapping_uuid" {
  description = "UUID of the queue -> document_processor event source mapping."
  value       = aws_lambda_event_source_mapping.objects.uuid
}

output "processor_policy_statements" {
  description = "Statements document_processor needs to consume the queue (pass to the lambda module's policy_statements)."
  value = [
    {
      sid       = "ConsumeDocumentEvents"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [aws_sqs_queue.objects.arn]
    },
    {
      sid       = "DecryptDocumentEvents"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
    },
  ]
}

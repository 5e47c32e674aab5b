output "function_name" {
  description = "Function name, `<name_prefix>-<name>`."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified function ARN."
  value       = aws_lambda_function.this.arn
}

output "invoke_target_arn" {
  description = "ARN that event sources, schedules and permissions should target: the `live` alias with SnapStart, else the function. Available once the role's permissions exist."
  value       = var.snapstart ? aws_lambda_alias.live[0].arn : aws_lambda_function.this.arn
  depends_on  = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.vpc]
}

output "invoke_arn" {
  description = "ARN for API Gateway integrations (`.../invocations`), of the alias with SnapStart."
  value       = var.snapstart ? aws_lambda_alias.live[0].invoke_arn : aws_lambda_function.this.invoke_arn
}

output "qualifier" {
  description = "Alias name to pass as `qualifier` to aws_lambda_permission (`live` with SnapStart, else null)."
  value       = var.snapstart ? aws_lambda_alias.live[0].name : null
}

output "version" {
  description = "Published version behind the alias with SnapStart; `$LATEST` without."
  value       = aws_lambda_function.this.version
}

output "role_arn" {
  description = "Execution role ARN (e.g. for OpenSearch data-access policies and KMS key policies)."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Execution role name."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "dlq_arn" {
  description = "ARN of the SQS queue receiving failed asynchronous invocations."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the DLQ (for a depth alarm: AWS/SQS ApproximateNumberOfMessagesVisible)."
  value       = aws_sqs_queue.dlq.name
}

output "alarm_arns" {
  description = "ARNs of the errors, throttles and duration_p95 alarms."
  value = {
    errors       = aws_cloudwatch_metric_alarm.errors.arn
    throttles    = aws_cloudwatch_metric_alarm.throttles.arn
    duration_p95 = aws_cloudwatch_metric_alarm.duration_p95.arn
  }
}

output "sns_topic_arn" {
  description = "Alarm topic: subscribe chat/incident tools here; other modules may send their alarms to it."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the topic (created here unless create_kms_key = false)."
  value       = local.kms_key_arn
}

output "alarm_names" {
  description = "Alarm names by \"<definition> <subject>\" (e.g. \"lambda_errors kass-dev-orchestrator\")."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "budget_name" {
  description = "AWS Budgets budget name."
  value       = aws_budgets_budget.monthly.name
}

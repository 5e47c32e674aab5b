output "enabled" {
  description = "Whether the tier exists."
  value       = var.enabled
}

output "endpoint_name" {
  description = "Endpoint name for KASS_SAGEMAKER_ENDPOINT_NAME (null when disabled). With the schedule on, the endpoint exists only in office hours; kass answers ModelUnavailable (HTTP 503 model_unavailable) otherwise."
  value       = var.enabled ? local.endpoint_name : null
}

output "endpoint_arn" {
  description = "Endpoint ARN (the endpoint may not exist outside office hours)."
  value       = var.enabled ? local.endpoint_arn : null
}

output "endpoint_config_name" {
  description = "Current endpoint configuration (the start schedule creates the endpoint from it)."
  value       = var.enabled ? aws_sagemaker_endpoint_configuration.this[0].name : null
}

output "model_name" {
  description = "SageMaker model name."
  value       = var.enabled ? aws_sagemaker_model.this[0].name : null
}

output "execution_role_arn" {
  description = "The model's execution role."
  value       = var.enabled ? aws_iam_role.execution[0].arn : null
}

output "invoke_policy_statements" {
  description = "Statements for the lambda module's policy_statements ({sid, actions, resources}) of the orchestrator: invoke the endpoint (empty when disabled)."
  value = var.enabled ? [
    {
      sid       = "InvokeSelfHostedModel"
      actions   = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
      resources = [local.endpoint_arn]
    },
  ] : []
}

output "environment_variables" {
  description = "Environment of the functions that use the tier: {KASS_SAGEMAKER_ENDPOINT_NAME = ...}, or {} when disabled."
  value       = var.enabled ? { KASS_SAGEMAKER_ENDPOINT_NAME = local.endpoint_name } : {}
}

output "schedule" {
  description = "Office hours when scheduled: {start, stop, autoscaling, timezone}; null when always on or disabled."
  value = local.scheduled ? {
    start       = var.start_cron
    stop        = var.stop_cron
    autoscaling = local.autoscaling ? var.autoscaling_cron : null
    timezone    = var.schedule_timezone
  } : null
}

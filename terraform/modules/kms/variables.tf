variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`); the key's alias is `alias/<name_prefix>`."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits (7-30); until then `aws kms cancel-key-deletion` restores the key and every resource it encrypts."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "Set deletion_window_in_days to a whole number from 7 to 30."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs (logs.<region>.amazonaws.com) encrypt log groups of this account and region with the key (the lambda, api_gateway, vpc and sagemaker_endpoint modules' log KMS inputs)."
  type        = bool
  default     = true
}

variable "allow_eventbridge_rules" {
  description = "Let EventBridge (events.amazonaws.com) deliver to SQS queues encrypted with the key, for rules named `<name_prefix>-*` of this account and region only (the eventbridge module's queues)."
  type        = bool
  default     = true
}

variable "allow_alarm_notifications" {
  description = "Let CloudWatch alarms and AWS Budgets (cloudwatch.amazonaws.com, budgets.amazonaws.com) publish to an SNS topic encrypted with the key, from this account only (the monitoring module's topic)."
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Prefix of every table name, `kass-<env>` (e.g. `kass-dev`); tables are `<name_prefix>-conversations`, `-cache`, `-checkpoints`, `-idempotency`, `-actions`, `-connections`."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every table (SSE-KMS). The functions' roles need kms:Decrypt and kms:GenerateDataKey on it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "Set kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>); aliases are not accepted by DynamoDB SSE."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable on every table (set false only for throwaway environments or before a planned destroy)."
  type        = bool
  default     = true
}

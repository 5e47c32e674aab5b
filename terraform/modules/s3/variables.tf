variable "name_prefix" {
  description = "Prefix of the bucket name, `kass-<env>` (e.g. `kass-dev`); the bucket is `<name_prefix>-raw<bucket_name_suffix>`."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "bucket_name_suffix" {
  description = "Appended to the bucket name to make it globally unique, e.g. `-123456789012` (S3 names are shared by all accounts). Empty: `<name_prefix>-raw`."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(-[a-z0-9]+)*$", var.bucket_name_suffix)) && length(var.bucket_name_suffix) <= 30
    error_message = "Set bucket_name_suffix to empty or to lowercase -parts such as -123456789012 (at most 30 characters)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for SSE-KMS (default encryption, with an S3 bucket key). Writers need kms:GenerateDataKey, readers kms:Decrypt on it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "Set kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted document's old version is kept (recovery window) before S3 deletes it."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "Set noncurrent_version_expiration_days between 1 and 3650."
  }
}

variable "abort_incomplete_upload_days" {
  description = "Days after which incomplete multipart uploads are removed."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_upload_days >= 1 && var.abort_incomplete_upload_days <= 365
    error_message = "Set abort_incomplete_upload_days between 1 and 365."
  }
}

variable "access_log_bucket" {
  description = "Optional: name of an existing bucket receiving S3 server access logs of the raw bucket (its policy must allow logging.s3.amazonaws.com). Null: no access logs."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "Set access_log_bucket to an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or leave it null."
  }
}

variable "access_log_prefix" {
  description = "Key prefix of the access logs in access_log_bucket."
  type        = string
  default     = "s3-access/raw/"
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket with its objects (throwaway environments and emulators only)."
  type        = bool
  default     = false
}

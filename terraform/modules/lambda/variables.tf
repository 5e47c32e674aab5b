variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`); the function is `<name_prefix>-<name>` with `_` turned into `-`."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "name" {
  description = "Short function name as in lambda_functions/<name>/ and dist/functions/<name>.zip, e.g. `vector_search`; also the Powertools service name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,29}$", var.name))
    error_message = "Set name to the function's directory name (lowercase letters, digits, _ or -, at most 30 characters), e.g. orchestrator or vector_search."
  }
}

variable "description" {
  description = "Function description shown in the console."
  type        = string
  default     = ""
}

variable "zip_path" {
  description = "Path of the prebuilt function zip from `make build` (dist/functions/<name>.zip, handler.py at its root). Terraform never builds it."
  type        = string

  validation {
    condition     = endswith(var.zip_path, ".zip")
    error_message = "Set zip_path to the function zip written by `make build`, e.g. ../../../dist/functions/orchestrator.zip."
  }
}

variable "layer_arns" {
  description = "Layer version ARNs, in order (the `lambda_layer` module's `arn`): core for every function, core + agent for the orchestrator."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layer_arns) <= 5 && alltrue([for arn in var.layer_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", arn))])
    error_message = "Set layer_arns to at most 5 layer version ARNs (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

variable "handler" {
  description = "Entry point inside the zip."
  type        = string
  default     = "handler.lambda_handler"
}

variable "runtime" {
  description = "Lambda Python runtime; must be the target `make build` compiled the layers for (KASS_LAMBDA_PYTHON_VERSION)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "Set runtime to python3.11, python3.12 or python3.13 (the targets `make build` supports)."
  }
}

variable "architecture" {
  description = "Instruction set; must match the layers' build (KASS_LAMBDA_ARCHITECTURE). arm64 costs less per GB-second."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "Set architecture to arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "Set memory_size to a whole number of MB between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Function timeout in seconds. The duration alarm fires near it; an SQS source queue's visibility timeout must be at least 6x it."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "Set timeout_seconds to a whole number between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: caps the function (and what it can cost or do to its stores) and guarantees it that much of the account's pool. The account must keep 100 unreserved."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "Set reserved_concurrency to a whole number >= 1 (0 would stop the function; no reservation is not offered)."
  }
}

variable "environment_variables" {
  description = "Function settings: KASS_* (kass.settings), POWERTOOLS_* overrides, and AWS_ENDPOINT_URL[_<SERVICE>] for emulators. The module sets POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_LOG_LEVEL; entries here win."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.environment_variables) : can(regex("^(KASS_[A-Z0-9_]+|POWERTOOLS_[A-Z0-9_]+|AWS_ENDPOINT_URL(_[A-Z0-9_]+)?)$", key))])
    error_message = "Set only KASS_*, POWERTOOLS_* or AWS_ENDPOINT_URL[_<SERVICE>] keys in environment_variables (secrets belong in Secrets Manager, not here)."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of the function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "Set log_level to DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE (kass.observability currently fixes the namespace `kass` in code)."
  type        = string
  default     = "kass"
}

variable "policy_statements" {
  description = "The function's own permissions: Allow statements with explicit actions (no wildcards) on explicit resource ARNs. The module adds only logging to its log group, X-Ray, the DLQ, the KMS key and (with vpc_config) VPC networking."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]{1,100}$", s.sid))]) && length(distinct([for s in var.policy_statements : s.sid])) == length(var.policy_statements)
    error_message = "Give every policy statement a unique alphanumeric sid (IAM allows only A-Z, a-z, 0-9)."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.actions) > 0 && alltrue([for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", a))])])
    error_message = "List explicit actions such as dynamodb:GetItem in every policy statement: no empty list and no * wildcard."
  }

  validation {
    condition     = alltrue([for s in var.policy_statements : length(s.resources) > 0 && alltrue([for r in s.resources : startswith(r, "arn:") && r != "*"])])
    error_message = "List resource ARNs (arn:...) in every policy statement: no empty list and no bare *."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN that encrypts the environment variables and the DLQ. The role gets kms:Decrypt and kms:GenerateDataKey on it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "Set kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs (one of CloudWatch's allowed values)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Set log_retention_days to one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "Optional KMS key ARN for the log group; its key policy must allow logs.<region>.amazonaws.com. Null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "Set log_kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>) or leave it null."
  }
}

variable "vpc_config" {
  description = "Optional: run the function in these private subnets with these security groups (the `vpc` module's outputs). Null: outside any VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc_config == null || (length(try(var.vpc_config.subnet_ids, [])) > 0 && length(try(var.vpc_config.security_group_ids, [])) > 0)
    error_message = "Set vpc_config.subnet_ids and vpc_config.security_group_ids to non-empty lists, or set vpc_config = null to run outside a VPC."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic ARN that the function's alarms (errors, throttles, p95 duration) notify."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_topic_arn))
    error_message = "Set alarm_topic_arn to an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>), e.g. the monitoring module's topic."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the alarms' metric statistics."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "Set alarm_period_seconds to 60, 300, 900 or 3600."
  }
}

variable "alarm_errors_threshold" {
  description = "Errors (invocations that raised or timed out) in one period that raise the errors alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_errors_threshold >= 1
    error_message = "Set alarm_errors_threshold to 1 or more."
  }
}

variable "alarm_duration_ratio" {
  description = "The p95 duration alarm fires above this share of the timeout (0.8 = 80 %)."
  type        = number
  default     = 0.8

  validation {
    condition     = var.alarm_duration_ratio > 0 && var.alarm_duration_ratio <= 1
    error_message = "Set alarm_duration_ratio to a share of the timeout in (0, 1], e.g. 0.8."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long failed asynchronous events stay in the function's DLQ (SQS allows 60 to 1209600 = 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "Set dlq_message_retention_seconds between 60 and 1209600 (14 days)."
  }
}

variable "async_max_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (schedules, events) before the event goes to the DLQ."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_max_retry_attempts)
    error_message = "Set async_max_retry_attempts to 0, 1 or 2."
  }
}

variable "async_max_event_age_seconds" {
  description = "Age after which an unprocessed asynchronous event goes to the DLQ without further retries."
  type        = number
  default     = 21600

  validation {
    condition     = var.async_max_event_age_seconds >= 60 && var.async_max_event_age_seconds <= 21600
    error_message = "Set async_max_event_age_seconds between 60 and 21600 (6 hours)."
  }
}

variable "code_signing_config_arn" {
  description = "Optional Lambda code signing config ARN (AWS Signer): deployments must then upload signed zips."
  type        = string
  default     = null
}

variable "snapstart" {
  description = "Lambda SnapStart (Python 3.12+): publish a version per deploy, restore new environments from a snapshot of its init, and route callers to the `live` alias. See README."
  type        = bool
  default     = false
}

variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`)."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN encrypting the queues. Its key policy must let events.amazonaws.com use it (kms:GenerateDataKey, kms:Decrypt) to deliver to them."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "Set kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)."
  }
}

variable "schedules" {
  description = "Connector name -> EventBridge schedule expression, e.g. { gitlab = \"rate(15 minutes)\", backlog = \"cron(0/30 * * * ? *)\" }. Each rule invokes data_fetcher with {\"connector\": <name>}."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.schedules) : can(regex("^[a-z][a-z0-9_]{0,30}$", name))])
    error_message = "Name each schedule after its connector (lowercase letters, digits, _), e.g. gitlab, slack, backlog."
  }

  validation {
    condition     = alltrue([for expression in values(var.schedules) : can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\))$", expression))])
    error_message = "Set each schedule to rate(<n> minutes|hours|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>), e.g. rate(15 minutes)."
  }
}

variable "data_fetcher_function_name" {
  description = "Name of the data_fetcher function (the lambda module's function_name); the schedules get permission to invoke it."
  type        = string
}

variable "data_fetcher_arn" {
  description = "ARN the schedules invoke (the lambda module's invoke_target_arn: the alias with SnapStart)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", var.data_fetcher_arn))
    error_message = "Set data_fetcher_arn to a Lambda function or alias ARN (the lambda module's invoke_target_arn)."
  }
}

variable "data_fetcher_qualifier" {
  description = "Alias of data_fetcher that the permission covers (the lambda module's qualifier; null without SnapStart)."
  type        = string
  default     = null
}

variable "bucket_name" {
  description = "Raw documents bucket whose EventBridge notifications feed the processor (the s3 module's bucket_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "Set bucket_name to the raw bucket's name (the s3 module's bucket_name output)."
  }
}

variable "key_prefix" {
  description = "Only objects under this prefix are routed (kass.raw_keys: `raw/<source>/<doc_id>.json`)."
  type        = string
  default     = "raw/"

  validation {
    condition     = length(var.key_prefix) > 0
    error_message = "Set key_prefix to the raw documents' prefix, raw/."
  }
}

variable "processor_arn" {
  description = "ARN the queue's event source mapping invokes (the lambda module's invoke_target_arn: the alias with SnapStart)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$", var.processor_arn))
    error_message = "Set processor_arn to a Lambda function or alias ARN (the lambda module's invoke_target_arn)."
  }
}

variable "processor_timeout_seconds" {
  description = "document_processor's timeout (the lambda module's timeout_seconds); the queue's visibility timeout must be at least 6x it plus the batching window."
  type        = number

  validation {
    condition     = var.processor_timeout_seconds >= 1 && var.processor_timeout_seconds <= 900
    error_message = "Set processor_timeout_seconds to the processor's timeout, between 1 and 900."
  }
}

variable "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the document events queue. Null: 6 x processor_timeout_seconds + batching_window_seconds (AWS's guidance for Lambda event sources)."
  type        = number
  default     = null

  validation {
    condition     = var.queue_visibility_timeout_seconds == null ? true : var.queue_visibility_timeout_seconds >= 0 && var.queue_visibility_timeout_seconds <= 43200
    error_message = "Set queue_visibility_timeout_seconds between 0 and 43200 (12 hours), or null for 6x the processor timeout."
  }
}

variable "message_retention_seconds" {
  description = "How long an undelivered document event waits in the queue."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "Set message_retention_seconds between 60 and 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives (processing attempts) of a document event before it moves to the DLQ."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "Set max_receive_count between 1 and 1000."
  }
}

variable "batch_size" {
  description = "Records per processor invocation (each succeeds or fails alone: ReportBatchItemFailures)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "Set batch_size between 1 and 10000 (above 10 also set batching_window_seconds >= 1)."
  }
}

variable "batching_window_seconds" {
  description = "Seconds the event source waits to fill a batch (0: invoke as soon as records arrive)."
  type        = number
  default     = 0

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300
    error_message = "Set batching_window_seconds between 0 and 300."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent processor invocations the queue drives (2-1000); null: up to the function's reserved concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null ? true : var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "Set maximum_concurrency between 2 and 1000, or null."
  }
}

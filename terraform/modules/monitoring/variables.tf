variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`), optionally with one suffix (`kass-dev-alice`); at most 24 characters."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "function_names" {
  description = "Lambda function names to chart (and to alarm on when create_function_alarms is true)."
  type        = list(string)

  validation {
    condition     = length(var.function_names) > 0
    error_message = "function_names is empty: pass the names of the deployed Lambda functions (e.g. kass-dev-orchestrator)."
  }

  validation {
    condition     = alltrue([for name in var.function_names : can(regex("^[A-Za-z0-9_-]{1,64}$", name))])
    error_message = "Every function_names entry must be a Lambda function name (1-64 letters, digits, '-' or '_'), not an ARN."
  }
}

variable "create_function_alarms" {
  description = "Create per-function alarms (errors, throttles, p95 duration) here. The lambda module already creates these three for every function it deploys (notifying this module's topic), so keep false unless some functions come from elsewhere."
  type        = bool
  default     = false
}

variable "extra_alarm_arns" {
  description = "Alarms created elsewhere (the lambda module's alarm_arns) to show in the dashboard's alarm status widget."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.extra_alarm_arns : can(regex("^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:[0-9]{12}:alarm:.+$", arn))])
    error_message = "Every extra_alarm_arns entry must be a CloudWatch alarm ARN."
  }
}

variable "latency_p95_threshold_ms" {
  description = "p95 duration alarm threshold per function name, milliseconds (functions not listed use the threshold in monitoring/alarms.json, 10 s). E.g. { \"kass-dev-vector_search\" = 1500 }."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for ms in values(var.latency_p95_threshold_ms) : ms > 0 && ms <= 900000])
    error_message = "latency_p95_threshold_ms values must be between 0 and 900000 ms (the Lambda maximum of 15 minutes)."
  }
}

variable "dlq_names" {
  description = "SQS dead-letter queue names to alarm on as soon as a message waits there."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.dlq_names : can(regex("^[A-Za-z0-9_-]{1,80}(\\.fifo)?$", name))])
    error_message = "Every dlq_names entry must be an SQS queue name (not a URL or ARN)."
  }
}

variable "api_gateway" {
  description = "The REST API to chart and alarm on (5xx): {name, stage} (the api_gateway module's rest_api_name and stage_name); null: none."
  type = object({
    name  = string
    stage = string
  })
  default = null
}

variable "websocket_api" {
  description = "The WebSocket API (streamed answers) to chart and alarm on (integration and execution errors): {id, name, stage} (the api_gateway module's websocket_api_id, websocket_api_name and stage_name), and service: the Powertools service of the function behind it (the lambda module's name), whose StreamErrors are alarmed; null: none."
  type = object({
    id      = string
    name    = string
    stage   = string
    service = optional(string, "stream_handler")
  })
  default = null

  # Conditionals, not ||: Terraform evaluates both sides, and null has no attributes.
  validation {
    # The ID is the metrics' ApiId dimension: a URL or an ARN there would alarm on nothing.
    condition     = var.websocket_api == null ? true : can(regex("^[a-z0-9]{1,32}$", var.websocket_api.id))
    error_message = "websocket_api.id must be the API's ID (e.g. a1b2c3d4e5: the api_gateway module's websocket_api_id), not its URL or ARN."
  }

  validation {
    condition     = var.websocket_api == null ? true : alltrue([for v in [var.websocket_api.name, var.websocket_api.stage, var.websocket_api.service] : can(regex("^[A-Za-z0-9_-]{1,128}$", v))])
    error_message = "websocket_api.name, .stage and .service must be names (letters, digits, '-' or '_'), e.g. {name = \"kass-dev-stream\", stage = \"v1\", service = \"stream_handler\"}."
  }
}

variable "sagemaker_endpoint_name" {
  description = "The 7B endpoint to chart (invocations, model latency); null: none."
  type        = string
  default     = null
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription mail)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Every alarm_emails entry must be an email address."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD (AWS Budgets): notifies the topic at 80% of actual and 100% of forecasted spend."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be a positive amount in USD."
  }
}

variable "budget_cost_tag" {
  description = "Limit the budget to resources with this cost allocation tag, e.g. {key = \"Environment\", value = \"dev\"} (activate the tag in Billing first). null: the whole account."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "create_kms_key" {
  description = "Create the alarm topic's KMS key here (true), or use kms_key_arn (false). A plain boolean so the key's count is known at plan time even when kms_key_arn comes from a key created in the same apply."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key for the alarm topic when create_kms_key = false; its key policy must let cloudwatch.amazonaws.com and budgets.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey). Leave null with create_kms_key = true."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "metrics_namespace" {
  description = "Namespace of the functions' custom metrics (kass.observability.NAMESPACE), charted and alarmed (definitions without a namespace)."
  type        = string
  default     = "kass"
}

variable "definitions_dir" {
  description = "Folder holding dashboard.json.tftpl and alarms.json. null: the repository's monitoring/ folder."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`), optionally with one suffix (`kass-dev-alice`); at most 24 characters."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "routes" {
  description = "The HTTP routes (kass.api.routes.HTTP_ROUTES) with the function serving each: [{method, path, function_name, invoke_arn, api_key_required}]. Paths use API Gateway syntax (`/conversations/{conversation_id}`), at most 4 segments. api_key_required (default true) false: neither API key nor Cognito JWT, for a caller that can send neither and whose function authenticates it (Discord's signed interactions, POST /discord)."
  type = list(object({
    method           = string
    path             = string
    function_name    = string
    invoke_arn       = string
    api_key_required = optional(bool, true)
  }))

  validation {
    condition     = length(var.routes) > 0
    error_message = "routes is empty: pass kass.api.routes.HTTP_ROUTES, each with the function_name and invoke_arn of its Lambda function."
  }

  validation {
    condition     = alltrue([for r in var.routes : contains(["GET", "POST", "PUT", "PATCH", "DELETE"], r.method)])
    error_message = "Every route method must be one of GET, POST, PUT, PATCH, DELETE (upper case)."
  }

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^(/([A-Za-z0-9._-]+|\\{[A-Za-z0-9_]+\\})){1,4}$", r.path))])
    error_message = "Every route path must look like /chat or /conversations/{conversation_id}: 1 to 4 segments of letters, digits, '.', '_', '-', or a {parameter}."
  }

  validation {
    condition     = length(distinct([for r in var.routes : "${r.method} ${r.path}"])) == length(var.routes)
    error_message = "Two routes have the same method and path."
  }

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?/invocations$", r.invoke_arn))])
    error_message = "Every route invoke_arn must be a Lambda invoke ARN (the function's invoke_arn attribute: arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations)."
  }
}

variable "stage_name" {
  description = "Stage name of the REST and WebSocket APIs (part of the URLs)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage_name))
    error_message = "stage_name must be 1-64 letters, digits, '-' or '_'."
  }
}

# --- keys, throttling, quota -----------------------------------------------------------------

variable "api_key_names" {
  description = "API keys to create (one per client: web page, CI...); every route requires a key (x-api-key header) unless it sets api_key_required = false."
  type        = list(string)
  default     = ["default"]

  validation {
    condition     = length(var.api_key_names) > 0 && alltrue([for n in var.api_key_names : can(regex("^[a-z0-9][a-z0-9-]{0,30}$", n))])
    error_message = "api_key_names must hold at least one name of lowercase letters, digits and '-' (at most 31 characters)."
  }
}

variable "throttle_rate_limit" {
  description = "Steady-state requests per second, for the usage plan (per key) and the stage (all callers)."
  type        = number
  default     = 10

  validation {
    condition     = var.throttle_rate_limit > 0 && var.throttle_rate_limit <= 10000
    error_message = "throttle_rate_limit must be between 0 (exclusive) and 10000 requests per second."
  }
}

variable "throttle_burst_limit" {
  description = "Burst of requests allowed above the rate."
  type        = number
  default     = 20

  validation {
    condition     = var.throttle_burst_limit >= 1 && var.throttle_burst_limit <= 5000 && floor(var.throttle_burst_limit) == var.throttle_burst_limit
    error_message = "throttle_burst_limit must be a whole number from 1 to 5000."
  }
}

variable "quota_limit" {
  description = "Requests per key per quota_period."
  type        = number
  default     = 10000

  validation {
    condition     = var.quota_limit >= 1 && floor(var.quota_limit) == var.quota_limit
    error_message = "quota_limit must be a whole number of at least 1."
  }
}

variable "quota_period" {
  description = "Quota period: DAY, WEEK or MONTH."
  type        = string
  default     = "DAY"

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.quota_period)
    error_message = "quota_period must be DAY, WEEK or MONTH."
  }
}

# --- optional JWT (Cognito) ------------------------------------------------------------------

variable "cognito_user_pool_arns" {
  description = "Cognito user pools whose ID/access tokens (Authorization header) are required on top of the API key. Empty: API key only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.cognito_user_pool_arns : can(regex("^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[a-z0-9-]+_[A-Za-z0-9]+$", arn))])
    error_message = "Every cognito_user_pool_arns entry must be a Cognito user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>)."
  }
}

variable "jwt_exempt_paths" {
  description = "Paths that keep API-key-only access when a Cognito authorizer is set (liveness probes)."
  type        = list(string)
  default     = ["/health"]
}

variable "cors_allow_origin" {
  description = "Origin of the web page allowed to call the API from a browser (e.g. https://d123.cloudfront.net); adds OPTIONS preflight responses and CORS headers on API Gateway's own errors. null: no CORS. The functions must send Access-Control-Allow-Origin on their own responses."
  type        = string
  default     = null

  validation {
    condition     = var.cors_allow_origin == null || can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?$", var.cors_allow_origin))
    error_message = "cors_allow_origin must be an https origin without a path, e.g. https://d123.cloudfront.net."
  }
}

# --- logs, tracing, WAF ----------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention in days of the access and execution logs (one of CloudWatch's allowed values)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key for the API log groups (its key policy must allow logs.<region>.amazonaws.com); null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "execution_logging_level" {
  description = "API Gateway execution logging: OFF, ERROR or INFO (request bodies are never logged)."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "manage_account_cloudwatch_role" {
  description = "Create the account-wide role API Gateway uses to write CloudWatch logs and register it (aws_api_gateway_account, one per account and region). Access and execution logs fail without it. Set true in exactly one environment per account/region."
  type        = bool
  default     = false
}

variable "xray_tracing_enabled" {
  description = "X-Ray active tracing on the REST stage."
  type        = bool
  default     = true
}

variable "waf_web_acl_arn" {
  description = "Regional WAFv2 web ACL to associate with the REST stage; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$", var.waf_web_acl_arn))
    error_message = "waf_web_acl_arn must be a regional WAFv2 web ACL ARN or null."
  }
}

# --- WebSocket (streaming) -------------------------------------------------------------------

variable "websocket_function" {
  description = "The streaming function ({function_name, invoke_arn, role_name}) serving $connect, $disconnect and $default of a WebSocket API, and $connect's API-key authorizer; its role (role_name) gets execute-api:ManageConnections on the stage's connections. null: no WebSocket API."
  type = object({
    function_name = string
    invoke_arn    = string
    role_name     = string
  })
  default = null

  validation {
    condition     = var.websocket_function == null || can(regex("^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/.+/invocations$", var.websocket_function.invoke_arn))
    error_message = "websocket_function.invoke_arn must be the function's Lambda invoke ARN."
  }

  validation {
    condition     = var.websocket_function == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.websocket_function.role_name))
    error_message = "websocket_function.role_name must be the name (not the ARN) of the function's execution role."
  }
}

variable "websocket_api_key_required" {
  description = "Require an API key on $connect, sent as the api_key query parameter (wss://...?api_key=<key>: browsers cannot set headers on a WebSocket). The streaming function, as $connect's REQUEST authorizer, returns it as usageIdentifierKey and API Gateway checks it against the usage plan (throttling, quota). false: no key and no authorizer; the function must authenticate connections itself."
  type        = bool
  default     = true
}

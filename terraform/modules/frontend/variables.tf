variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`), optionally with one suffix (`kass-dev-alice`); at most 24 characters."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "api_origins" {
  description = "Origins the page may call (Content-Security-Policy connect-src besides 'self'): the REST API origin and, if any, the WebSocket origin, e.g. [\"https://abc123.execute-api.ap-northeast-1.amazonaws.com\", \"wss://def456.execute-api.ap-northeast-1.amazonaws.com\"]."
  type        = list(string)

  validation {
    condition     = length(var.api_origins) > 0
    error_message = "api_origins is empty: pass the api_gateway module's origin (and websocket_origin) so the page can reach the API."
  }

  validation {
    condition     = alltrue([for o in var.api_origins : can(regex("^(https|wss)://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "Every api_origins entry must be an https:// or wss:// origin without a path or wildcard, e.g. https://abc123.execute-api.ap-northeast-1.amazonaws.com."
  }
}

variable "web_dir" {
  description = "Folder of the page's files (the repository's web/): every file is uploaded with its Content-Type (html, js, css, svg, json, ico, png, webmanifest; any other extension fails the plan), except dotfiles and a config.json, which this module generates."
  type        = string

  validation {
    condition     = fileexists("${var.web_dir}/index.html")
    error_message = "web_dir must be a folder holding the page's index.html (the repository's web/, e.g. \"$${path.root}/../../../web\" from an environment)."
  }
}

variable "api_url" {
  description = "Base URL of the REST API the page calls (the api_gateway module's invoke_url): config.json's apiUrl."
  type        = string

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.api_url))
    error_message = "api_url must be an https URL such as https://abc123.execute-api.ap-northeast-1.amazonaws.com/v1."
  }
}

variable "stream_url" {
  description = "wss:// URL of the WebSocket API (the api_gateway module's websocket_url): config.json's streamUrl. null: the page answers without streaming (POST /chat)."
  type        = string
  default     = null

  validation {
    condition     = var.stream_url == null || can(regex("^wss://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.stream_url))
    error_message = "stream_url must be a wss:// URL such as wss://def456.execute-api.ap-northeast-1.amazonaws.com/v1, or null."
  }
}

variable "api_key" {
  description = "API key the page sends (x-api-key on REST, ?api_key= on the WebSocket): config.json's apiKey. Public to anyone who can load the page: it meters and throttles, it does not authenticate. null: none."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.api_key == null || (length(coalesce(var.api_key, "-")) >= 20 && length(coalesce(var.api_key, "-")) <= 128)
    error_message = "api_key must be an API Gateway key value (20 to 128 characters; not the 10-character key ID), or null."
  }
}

variable "domain_names" {
  description = "Custom domain names (CloudFront aliases) for the page; needs acm_certificate_arn. Empty: the *.cloudfront.net name only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for d in var.domain_names : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", d))])
    error_message = "Every domain_names entry must be a lowercase DNS name such as chat.example.com."
  }
}

variable "acm_certificate_arn" {
  description = "ACM certificate for domain_names; CloudFront only uses certificates in us-east-1."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1 (CloudFront requires that region)."
  }
}

variable "price_class" {
  description = "CloudFront price class. PriceClass_200 includes Japan and the rest of Asia; PriceClass_100 is North America and Europe only."
  type        = string
  default     = "PriceClass_200"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "log_bucket_domain_name" {
  description = "S3 bucket (its bucket_domain_name, e.g. kass-logs.s3.amazonaws.com; ACLs must be enabled on it) for CloudFront standard access logs; null: no access logs."
  type        = string
  default     = null

  validation {
    condition     = var.log_bucket_domain_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com$", var.log_bucket_domain_name))
    error_message = "log_bucket_domain_name must be a bucket domain name such as kass-logs.s3.amazonaws.com."
  }
}

variable "web_acl_id" {
  description = "WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) ARN to attach; null: none."
  type        = string
  default     = null

  validation {
    condition     = var.web_acl_id == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$", var.web_acl_id))
    error_message = "web_acl_id must be a global (CLOUDFRONT scope) WAFv2 web ACL ARN in us-east-1."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS on the page bucket; its key policy must let cloudfront.amazonaws.com kms:Decrypt for this distribution (aws:SourceArn). null: SSE-S3 (AES-256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days old versions of the page's files are kept (rollback window)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number of at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its files (dev and emulator runs); keep false elsewhere."
  type        = bool
  default     = false
}

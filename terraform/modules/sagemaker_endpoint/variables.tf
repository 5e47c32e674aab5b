variable "enabled" {
  description = "Create the self-hosted 7B tier at all. false: nothing is created and the outputs are null/empty (KASS_SAGEMAKER_ENDPOINT_NAME stays unset, so the tier is off)."
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`), optionally with one suffix (`kass-dev-alice`); at most 24 characters."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

# --- model -----------------------------------------------------------------------------------

variable "image_uri" {
  description = "Inference container image in ECR: a Hugging Face TGI, DJL LMI or vLLM image that serves the OpenAI-style Messages API on /invocations (e.g. 763104351884.dkr.ecr.<region>.amazonaws.com/huggingface-pytorch-tgi-inference:<tag>). Required when enabled."
  type        = string
  default     = null

  validation {
    condition     = var.image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI with a tag or digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>."
  }
}

variable "model_data_s3_uri" {
  description = "Model artifact in S3: a `s3://bucket/prefix/` folder of uncompressed weights (recommended: faster start, no tar) or a `s3://.../model.tar.gz`. Required when enabled."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.model_data_s3_uri))
    error_message = "model_data_s3_uri must look like s3://<bucket>/<prefix>/ (a folder ending in /) or s3://<bucket>/<key>.tar.gz."
  }

  validation {
    condition     = var.model_data_s3_uri == null ? true : (endswith(var.model_data_s3_uri, "/") || endswith(var.model_data_s3_uri, ".tar.gz"))
    error_message = "model_data_s3_uri must be a folder (ending in /) or a .tar.gz archive."
  }
}

variable "model_data_kms_key_arn" {
  description = "KMS key that encrypts the model artifact objects (SSE-KMS), if any; the execution role gets kms:Decrypt on it."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.model_data_kms_key_arn))
    error_message = "model_data_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "environment" {
  description = "Container environment, merged over the TGI defaults (HF_MODEL_ID=/opt/ml/model, SM_NUM_GPUS=1, MESSAGES_API_ENABLED=true, MAX_INPUT_TOKENS=6144, MAX_TOTAL_TOKENS=8192). For LMI/vLLM images pass their OPTION_* variables and override the TGI ones."
  type        = map(string)
  default     = {}
}

# --- endpoint --------------------------------------------------------------------------------

variable "instance_type" {
  description = "GPU instance type: ml.g5.* (NVIDIA A10G, 24 GB per GPU) or ml.g6.* (NVIDIA L4, 24 GB). ml.g5.xlarge fits a 7B model in bf16 (~15 GB) with room for the KV cache."
  type        = string
  default     = "ml.g5.xlarge"

  validation {
    condition     = can(regex("^ml\\.g[56]\\.(xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge|24xlarge|48xlarge)$", var.instance_type))
    error_message = "instance_type must be a GPU type ml.g5.* or ml.g6.* (e.g. ml.g5.xlarge, ml.g6.2xlarge)."
  }
}

variable "min_capacity" {
  description = "Minimum instances while the endpoint runs (SageMaker real-time endpoints cannot scale to 0; the schedule stops them instead). Also the initial count."
  type        = number
  default     = 1

  validation {
    condition     = var.min_capacity >= 1 && var.min_capacity <= 10 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number from 1 to 10 (use the schedule or enabled = false to run no instance)."
  }
}

variable "max_capacity" {
  description = "Maximum instances autoscaling may add."
  type        = number
  default     = 2

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 10 && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number from 1 to 10, and at least min_capacity."
  }
}

variable "target_invocations_per_instance" {
  description = "Target tracking: average invocations per instance per minute (SageMakerVariantInvocationsPerInstance). LLM requests take seconds, so keep it low."
  type        = number
  default     = 10

  validation {
    condition     = var.target_invocations_per_instance > 0
    error_message = "target_invocations_per_instance must be greater than 0."
  }
}

variable "scale_in_cooldown_seconds" {
  description = "Seconds after a scale-in before another scale-in."
  type        = number
  default     = 600
}

variable "scale_out_cooldown_seconds" {
  description = "Seconds after a scale-out before another scale-out (a GPU instance takes minutes to load the model)."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "Retention in days of the endpoint's container logs (/aws/sagemaker/Endpoints/<name>); one of CloudWatch's allowed values."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the container log group and the schedules' input. Not used for the instance volume: ml.g5/ml.g6 have local NVMe storage, encrypted by the instance's hardware, and CreateEndpointConfig rejects a KmsKeyId for such types."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

# --- office hours ----------------------------------------------------------------------------

variable "schedule_enabled" {
  description = "Run the endpoint only in office hours: EventBridge Scheduler creates it (start_cron) and deletes it (stop_cron), keeping model and endpoint config. false: Terraform keeps the endpoint running around the clock."
  type        = bool
  default     = true
}

variable "schedule_timezone" {
  description = "IANA time zone of the cron expressions."
  type        = string
  default     = "Asia/Tokyo"

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", var.schedule_timezone))
    error_message = "schedule_timezone must be an IANA time zone such as Asia/Tokyo, Europe/Berlin or UTC."
  }
}

variable "start_cron" {
  description = "When to create the endpoint. Creating a g5 endpoint and loading a 7B model takes about 10-15 minutes, so the default 08:45 has it in service by about 09:00 on weekdays."
  type        = string
  default     = "cron(45 8 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.start_cron))
    error_message = "start_cron must be an EventBridge Scheduler cron expression with six fields, e.g. cron(45 8 ? * MON-FRI *)."
  }
}

variable "stop_cron" {
  description = "When to delete the endpoint (default 19:00 on weekdays). Outside office hours kass answers 503 model_unavailable for this tier (ModelUnavailable), or falls through to another tier."
  type        = string
  default     = "cron(0 19 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.stop_cron))
    error_message = "stop_cron must be an EventBridge Scheduler cron expression with six fields, e.g. cron(0 19 ? * MON-FRI *)."
  }
}

variable "autoscaling_cron" {
  description = "When to register autoscaling on the freshly created endpoint (deleting an endpoint deregisters it). Leave ~30 minutes after start_cron; failed attempts are retried for an hour."
  type        = string
  default     = "cron(15 9 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.autoscaling_cron))
    error_message = "autoscaling_cron must be an EventBridge Scheduler cron expression with six fields, e.g. cron(15 9 ? * MON-FRI *)."
  }
}

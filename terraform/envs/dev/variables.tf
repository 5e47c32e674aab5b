# The inputs of one environment. This file is identical in envs/dev, envs/staging and envs/prod
# (a unit test compares them); each environment's values are in its terraform.tfvars. Every
# variable is validated so that bad input fails at plan time with a message saying what to set.

# -- identity -----------------------------------------------------------------------------------

variable "environment" {
  description = "Environment name: dev, staging or prod. Names every resource `kass-<environment>-...` and must equal the name of this directory, so one environment's values can never be applied to another's state."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "Set environment to dev, staging or prod (the names of the directories under terraform/envs/)."
  }

  validation {
    condition     = var.environment == basename(abspath(path.root))
    error_message = "Set environment to the name of this directory (terraform/envs/<environment>/): the values of one environment must not be planned against another's state."
  }
}

variable "account_id" {
  description = "12-digit AWS account ID of this environment. The provider refuses any other account (allowed_account_ids), and the state bucket is kass-tfstate-<account_id>."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "Set account_id to the 12-digit ID of the environment's AWS account (aws sts get-caller-identity --query Account)."
  }
}

variable "region" {
  description = "AWS region of the environment, e.g. ap-northeast-1 (Tokyo)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "Set region to an AWS region name such as ap-northeast-1 or us-east-1."
  }
}

# -- Lambda ------------------------------------------------------------------------------------

variable "dist_dir" {
  description = "Folder holding what `make build` wrote (functions/<name>.zip, layers/{core,agent}.zip). null: the repository's dist/ (<repo>/dist, three levels above this directory)."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Lambda runtime of every function and layer; must be the build target (KASS_LAMBDA_PYTHON_VERSION of `make build`)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "Set lambda_runtime to python3.11, python3.12 or python3.13, the KASS_LAMBDA_PYTHON_VERSION the zips were built for."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function and layer; must be the build target (KASS_LAMBDA_ARCHITECTURE of `make build`)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "Set lambda_architecture to arm64 or x86_64, the KASS_LAMBDA_ARCHITECTURE the zips were built for."
  }
}

variable "functions" {
  description = "Sizing of the six functions of kass.api.routes.FUNCTIONS: memory (MB), timeout (s) and reserved concurrency each. discord_handler's timeout bounds its worker (Discord's reply token lives 15 minutes); its concurrency serves both Discord's requests and the worker's runs. stream_handler's timeout bounds one streamed answer (run by an asynchronous invocation that $default hands it to, so past API Gateway's 29 s integration timeout); each answer being written holds one of its concurrent executions, and $connect, its authorizer, $disconnect and each message's hand-off take short ones."
  type = map(object({
    memory_size          = number
    timeout_seconds      = number
    reserved_concurrency = number
  }))

  validation {
    condition     = length(setsubtract(toset(["orchestrator", "vector_search", "document_processor", "data_fetcher", "discord_handler", "stream_handler"]), toset(keys(var.functions)))) == 0 && length(var.functions) == 6
    error_message = "Set functions to exactly the six functions orchestrator, vector_search, document_processor, data_fetcher, discord_handler and stream_handler, each with memory_size, timeout_seconds and reserved_concurrency."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.memory_size >= 128 && f.memory_size <= 10240 && f.timeout_seconds >= 1 && f.timeout_seconds <= 900 && f.reserved_concurrency >= 1])
    error_message = "Set every function's memory_size to 128-10240 MB, timeout_seconds to 1-900 and reserved_concurrency to at least 1."
  }
}

variable "function_environment_overrides" {
  description = "Extra environment of every function, merged last: AWS_ENDPOINT_URL[_<SERVICE>] to point the SDK at an emulator or a test double, or a KASS_* setting to override (tf-emulate). Leave empty in real environments."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.function_environment_overrides) : can(regex("^(KASS_[A-Z0-9_]+|AWS_ENDPOINT_URL(_[A-Z0-9_]+)?)$", key))])
    error_message = "Set only KASS_* settings or AWS_ENDPOINT_URL[_<SERVICE>] in function_environment_overrides (secrets belong in Secrets Manager)."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "Set log_level to DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the environment's logs (functions, API, VPC flow logs, OpenSearch domain, SageMaker endpoint)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Set log_retention_days to one of CloudWatch's retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days."
  }
}

# -- network -----------------------------------------------------------------------------------

variable "vpc_enabled" {
  description = "Run orchestrator, vector_search and document_processor in a private VPC (gateway endpoints for S3 and DynamoDB, interface endpoints for the rest; internet only with vpc_nat_gateway_enabled). data_fetcher always runs outside: it calls GitLab, Slack and Backlog directly. Required for opensearch_engine = \"domain\"."
  type        = bool
}

variable "vpc_cidr_block" {
  description = "IPv4 range of the VPC (/16 to /24)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr_block))
    error_message = "Set vpc_cidr_block to an IPv4 CIDR block such as 10.40.0.0/16."
  }
}

variable "vpc_availability_zones" {
  description = "Availability zones of the private subnets, one subnet per zone (e.g. [\"ap-northeast-1a\", \"ap-northeast-1c\"]). Ignored when vpc_enabled is false."
  type        = list(string)
  default     = []

  validation {
    condition     = !var.vpc_enabled || length(var.vpc_availability_zones) > 0
    error_message = "vpc_availability_zones is empty, so the VPC would have no private subnet for the functions: set at least one zone, e.g. [\"ap-northeast-1a\"] (two or more to survive a zone outage), or set vpc_enabled = false."
  }

  validation {
    condition     = alltrue([for az in var.vpc_availability_zones : startswith(az, var.region) && length(az) == length(var.region) + 1])
    error_message = "Set vpc_availability_zones to zone names of the environment's region, e.g. ap-northeast-1a for ap-northeast-1."
  }
}

variable "vpc_interface_endpoint_services" {
  description = "AWS APIs the VPC functions reach through interface endpoints (about $7.30 per endpoint and zone per month). They need bedrock-runtime (embeddings, chat), aoss with the Serverless engine, sagemaker.runtime with the 7B tier; xray to deliver the tracer's subsegments."
  type        = list(string)
  default     = ["bedrock-runtime", "aoss", "xray"]

  validation {
    condition     = !var.vpc_enabled || contains(var.vpc_interface_endpoint_services, "bedrock-runtime")
    error_message = "Add bedrock-runtime to vpc_interface_endpoint_services: the functions in the VPC call Bedrock for embeddings and answers and have no other route to it."
  }
}

variable "vpc_nat_gateway_enabled" {
  description = "One NAT gateway (first zone) giving the VPC functions HTTPS to the internet: the orchestrator's agents call GitLab, Slack and Backlog and read the connector secrets in Secrets Manager through it. About $49/month with its Elastic IP (docs/cost.md); allow-list the nat_gateway_public_ip output where a service restricts callers by IP. Ignored when vpc_enabled is false."
  type        = bool
  default     = false
}

# -- OpenSearch --------------------------------------------------------------------------------

variable "opensearch_engine" {
  description = "Chunk index: `serverless` (OpenSearch Serverless collection; idle floor 1-2 OCUs billed around the clock) or `domain` (a small managed domain in the VPC; lower idle cost). See the opensearch module's README and docs/cost.md."
  type        = string

  validation {
    condition     = contains(["serverless", "domain"], var.opensearch_engine)
    error_message = "Set opensearch_engine to serverless or domain."
  }

  validation {
    condition     = var.opensearch_engine != "domain" || var.vpc_enabled
    error_message = "opensearch_engine = \"domain\" runs the domain in the VPC's private subnets: set vpc_enabled = true (with vpc_availability_zones), or use opensearch_engine = \"serverless\"."
  }

  validation {
    condition     = var.opensearch_engine != "serverless" || !var.vpc_enabled || contains(var.vpc_interface_endpoint_services, "aoss")
    error_message = "With opensearch_engine = \"serverless\" and vpc_enabled = true the functions reach the collection only through an OpenSearch Serverless VPC endpoint: add aoss to vpc_interface_endpoint_services."
  }
}

variable "opensearch_index" {
  description = "Name of the chunk index (KASS_AWS_OPENSEARCH_INDEX)."
  type        = string
  default     = "kass-chunks"
}

variable "opensearch_standby_replicas" {
  description = "Serverless only: replicas in a second zone (idle floor 2 OCUs instead of 1)."
  type        = bool
  default     = true
}

variable "opensearch_domain_instance_type" {
  description = "Domain only: data node type, e.g. t3.small.search (2 GiB: a small corpus) or r7g.medium.search."
  type        = string
  default     = "t3.small.search"
}

variable "opensearch_domain_instance_count" {
  description = "Domain only: data nodes (1 is cheapest; one per zone up to 3 for high availability)."
  type        = number
  default     = 1
}

variable "opensearch_domain_volume_size_gb" {
  description = "Domain only: gp3 volume per node, GiB."
  type        = number
  default     = 10
}

# -- models ------------------------------------------------------------------------------------

variable "bedrock_embed_model_id" {
  description = "Embedding model (KASS_BEDROCK_EMBED_MODEL_ID). The index records it; changing it needs a re-index."
  type        = string
  default     = "amazon.titan-embed-text-v2:0"
}

variable "bedrock_embed_dimension" {
  description = "Embedding size (KASS_BEDROCK_EMBED_DIMENSION): Titan Text Embeddings v2 gives 256, 512 or 1024."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024], var.bedrock_embed_dimension)
    error_message = "Set bedrock_embed_dimension to 256, 512 or 1024 (the sizes Titan Text Embeddings v2 supports)."
  }
}

variable "bedrock_haiku_model_id" {
  description = "Fast chat tier (KASS_BEDROCK_HAIKU_MODEL_ID): a model ID or a cross-region inference profile ID (us., eu., apac., jp., global. prefix)."
  type        = string
}

variable "bedrock_sonnet_model_id" {
  description = "Strong chat tier (KASS_BEDROCK_SONNET_MODEL_ID): a model ID or a cross-region inference profile ID."
  type        = string
}

variable "bedrock_inference_regions" {
  description = "Destination regions of the cross-region inference profiles used (e.g. jp.: ap-northeast-1 and ap-northeast-3). The orchestrator may invoke the underlying foundation models in these regions only; see `aws bedrock get-inference-profile`."
  type        = list(string)

  validation {
    condition     = length(var.bedrock_inference_regions) > 0 && alltrue([for r in var.bedrock_inference_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "Set bedrock_inference_regions to the region names the inference profiles route to, e.g. [\"ap-northeast-1\", \"ap-northeast-3\"] for jp. profiles."
  }
}

variable "chat_tier" {
  description = "KASS_CHAT_TIER: auto routes each question (Haiku for simple ones, Sonnet for complex ones or tool use, the 7B tier for confidential ones when sagemaker_enabled; each falls back to the next and finally to the extractive tier; ADR 0008), or pin one tier: extractive (no model), haiku, sonnet or sagemaker."
  type        = string
  default     = "haiku"

  validation {
    condition     = contains(["auto", "extractive", "haiku", "sonnet", "sagemaker"], var.chat_tier)
    error_message = "Set chat_tier to auto (route per question, ADR 0008) or pin one tier: extractive, haiku, sonnet or sagemaker."
  }

  validation {
    condition     = var.chat_tier != "sagemaker" || var.sagemaker_enabled
    error_message = "chat_tier = \"sagemaker\" needs the 7B endpoint: set sagemaker_enabled = true, or choose haiku, sonnet or extractive."
  }
}

# -- SageMaker (self-hosted 7B tier) ----------------------------------------------------------

variable "sagemaker_enabled" {
  description = "Create the self-hosted 7B endpoint (SageMaker, GPU). false: no SageMaker resources and KASS_SAGEMAKER_ENDPOINT_NAME unset."
  type        = bool
  default     = false

  validation {
    condition     = !var.sagemaker_enabled || !var.vpc_enabled || contains(var.vpc_interface_endpoint_services, "sagemaker.runtime")
    error_message = "With sagemaker_enabled and vpc_enabled the orchestrator reaches the endpoint only through an interface endpoint: add sagemaker.runtime to vpc_interface_endpoint_services."
  }
}

variable "sagemaker_image_uri" {
  description = "Inference container in ECR serving the Messages API (Hugging Face TGI, DJL LMI or vLLM), e.g. 763104351884.dkr.ecr.ap-northeast-1.amazonaws.com/huggingface-pytorch-tgi-inference:<tag>. Required with sagemaker_enabled."
  type        = string
  default     = null

  validation {
    condition     = !var.sagemaker_enabled || var.sagemaker_image_uri != null
    error_message = "sagemaker_enabled = true needs sagemaker_image_uri: the TGI/LMI image in ECR (docs/deploy.md, \"The SageMaker model\")."
  }
}

variable "sagemaker_model_key_prefix" {
  description = "Where the 7B model's uncompressed weights are in the raw bucket (a folder ending in /, outside raw/, e.g. models/qwen2.5-7b-instruct/). The endpoint reads s3://<raw bucket>/<prefix>."
  type        = string
  default     = "models/qwen2.5-7b-instruct/"

  validation {
    condition     = can(regex("^models/[A-Za-z0-9._/-]+/$", var.sagemaker_model_key_prefix))
    error_message = "Set sagemaker_model_key_prefix to a folder under models/ ending in /, e.g. models/qwen2.5-7b-instruct/ (keys under raw/ would be indexed as documents)."
  }
}

variable "sagemaker_environment" {
  description = "Extra container environment for the model server, merged over the module's TGI defaults (e.g. MAX_TOTAL_TOKENS)."
  type        = map(string)
  default     = {}
}

variable "sagemaker_instance_type" {
  description = "GPU instance type of the endpoint: ml.g5.* (A10G, 24 GB) or ml.g6.* (L4, 24 GB). ml.g5.xlarge fits a 7B model in bf16."
  type        = string
  default     = "ml.g5.xlarge"

  validation {
    condition     = can(regex("^ml\\.g[56]\\.(xlarge|2xlarge|4xlarge|8xlarge|12xlarge|16xlarge|24xlarge|48xlarge)$", var.sagemaker_instance_type))
    error_message = "Set sagemaker_instance_type to a GPU instance type, ml.g5.* or ml.g6.* (e.g. ml.g5.xlarge): a 7B model needs a 24 GB GPU, which CPU types (ml.m5, ml.c5, ...) do not have."
  }
}

variable "sagemaker_min_capacity" {
  description = "Instances while the endpoint runs (at least 1; the schedule stops it after hours)."
  type        = number
  default     = 1
}

variable "sagemaker_max_capacity" {
  description = "Most instances autoscaling may run."
  type        = number
  default     = 1

  validation {
    condition     = var.sagemaker_max_capacity >= var.sagemaker_min_capacity
    error_message = "Set sagemaker_max_capacity to at least sagemaker_min_capacity."
  }
}

variable "sagemaker_schedule_enabled" {
  description = "Run the endpoint only in office hours (created at sagemaker_start_cron, deleted at sagemaker_stop_cron); false: always on."
  type        = bool
  default     = true
}

variable "sagemaker_schedule_timezone" {
  description = "IANA time zone of the office-hours cron expressions."
  type        = string
  default     = "Asia/Tokyo"
}

variable "sagemaker_start_cron" {
  description = "When the endpoint is created (EventBridge Scheduler cron, six fields); it serves ~10-15 minutes later."
  type        = string
  default     = "cron(45 8 ? * MON-FRI *)"
}

variable "sagemaker_stop_cron" {
  description = "When the endpoint is deleted (EventBridge Scheduler cron, six fields)."
  type        = string
  default     = "cron(0 19 ? * MON-FRI *)"
}

variable "sagemaker_autoscaling_cron" {
  description = "When autoscaling is re-attached after the daily start (~30 minutes after sagemaker_start_cron)."
  type        = string
  default     = "cron(15 9 ? * MON-FRI *)"
}

# -- ingestion ---------------------------------------------------------------------------------

variable "connector_schedules" {
  description = "Connector name -> EventBridge schedule of data_fetcher for it, e.g. { gitlab = \"rate(15 minutes)\" }. Connectors: gitlab, slack, backlog; each reads its credentials from the secret kass/<environment>/connectors/<name>. Empty: no scheduled ingestion."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.connector_schedules) : contains(["gitlab", "slack", "backlog"], name)])
    error_message = "Name connector_schedules entries after a connector: gitlab, slack or backlog."
  }

  validation {
    condition     = alltrue([for expression in values(var.connector_schedules) : can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\))$", expression))])
    error_message = "Set each connector schedule to rate(<n> minutes|hours|days) or a six-field cron(...), e.g. rate(15 minutes); Slack allows about one history call per minute, so keep it at 5 minutes or more."
  }
}

variable "document_events_batch_size" {
  description = "Raw-document events per document_processor invocation."
  type        = number
  default     = 10
}

# -- storage -----------------------------------------------------------------------------------

variable "raw_noncurrent_version_expiration_days" {
  description = "Days replaced or deleted raw documents (and old model weights) keep their previous version."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  description = "Refuse to delete the DynamoDB tables (true in staging and prod; set false before a planned destroy)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the raw and web buckets with their objects (dev and emulator runs only)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Days a destroyed environment's KMS key can still be recovered (7-30)."
  type        = number
  default     = 30
}

# -- API and web page --------------------------------------------------------------------------

variable "api_key_names" {
  description = "API keys to create, one per client (e.g. web, ci); every route but POST /discord (signed by Discord) needs one (x-api-key; ?api_key= on the WebSocket). The \"web\" key goes into the page's config.json, public to whoever loads the page."
  type        = list(string)
  default     = ["web"]

  validation {
    condition     = contains(var.api_key_names, "web")
    error_message = "Keep \"web\" in api_key_names: the web page sends that key (config.json)."
  }
}

variable "api_throttle_rate_limit" {
  description = "Steady requests per second per API key and for the stage."
  type        = number
}

variable "api_throttle_burst_limit" {
  description = "Burst of requests above the rate."
  type        = number
}

variable "api_quota_per_day" {
  description = "Requests per API key per day."
  type        = number
}

variable "discord_public_key" {
  description = "Public Key of the environment's Discord application (Developer Portal, General Information): 64 hex characters. discord_handler (POST /discord, no API key) verifies every interaction's Ed25519 signature with it. Public, not a secret. null: the function is deployed but refuses every request with 401, so Discord will not accept the endpoint until it is set (docs/discord.md)."
  type        = string
  default     = null

  validation {
    condition     = var.discord_public_key == null ? true : can(regex("^[0-9a-fA-F]{64}$", var.discord_public_key))
    error_message = "Set discord_public_key to the Discord application's Public Key, the 64 hexadecimal characters under General Information in the Developer Portal (not the bot token, not the application ID), or leave it null to refuse every Discord request."
  }
}

variable "api_manage_account_cloudwatch_role" {
  description = "Create and register API Gateway's account-wide CloudWatch Logs role. true in exactly one environment per account and region (one account per environment: true everywhere)."
  type        = bool
  default     = true
}

variable "web_price_class" {
  description = "CloudFront price class of the web page (PriceClass_200 includes Japan)."
  type        = string
  default     = "PriceClass_200"
}

# -- monitoring --------------------------------------------------------------------------------

variable "alarm_emails" {
  description = "Addresses subscribed to the environment's alarm topic (each confirms a subscription mail)."
  type        = list(string)
  default     = []
}

variable "monthly_budget_usd" {
  description = "Monthly AWS Budgets amount for this environment in USD (resources tagged environment=<environment>); alerts at 80 % actual and 100 % forecasted. docs/cost.md gives each environment's expected cost."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "Set monthly_budget_usd to a positive amount in USD (docs/cost.md has each environment's expected monthly cost)."
  }
}

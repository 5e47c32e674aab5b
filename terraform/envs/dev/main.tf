# One kass environment: module calls and the values that wire them. envs/staging and envs/prod
# link to this file (and to variables.tf, outputs.tf, versions.tf, backend.tf, tests/): what
# differs between the environments is only in terraform.tfvars and backend.hcl. Code comes prebuilt from
# `make build` (dist/); Terraform never builds it.
#
#   kms ─► tables, bucket, queues, logs, index, env variables (the alarm topic has its own key)
#   core_layer ─► every function; connectors_layer ─► data_fetcher, orchestrator,
#   discord_handler, stream_handler; agent_layer ─► orchestrator, discord_handler,
#   stream_handler; discord_layer ─► discord_handler (the layers stack:
#   scripts/build_lambda.py FUNCTION_LAYERS)
#   vpc (optional; NAT for the agents' internet calls) ─► the five functions that use the
#   index, and the OpenSearch domain
#   opensearch ◄─ roles of orchestrator, vector_search, document_processor, discord_handler,
#   stream_handler
#   eventbridge: schedules ─► data_fetcher ; raw bucket events ─► SQS ─► document_processor
#   api ─► orchestrator, vector_search, discord_handler (kass.api.routes.HTTP_ROUTES; POST
#   /discord without API key: Discord signs its requests); its WebSocket API ─► stream_handler
#   ($connect with the API key as ?api_key=, $disconnect, $default)
#   frontend: web/ + config.json (API and WebSocket URLs, the "web" key) ─► api origins
#   monitoring ◄─ function names and alarms, DLQs, API ; its topic ─► every function's alarms

locals {
  name_prefix = "kass-${var.environment}"
  dist_dir    = coalesce(var.dist_dir, "${path.root}/../../../dist")
  partition   = startswith(var.region, "cn-") ? "aws-cn" : (startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")
  vpc_config  = one(module.vpc[*].lambda_vpc_config) # null without a VPC

  # kass.api.routes.HTTP_ROUTES (a unit test keeps the two equal). api_key_required defaults
  # to true; /discord cannot send our key and discord_handler checks Discord's signature.
  http_routes = [
    { method = "POST", path = "/chat", function = "orchestrator" },
    { method = "GET", path = "/conversations", function = "orchestrator" },
    { method = "GET", path = "/conversations/{conversation_id}", function = "orchestrator" },
    { method = "POST", path = "/actions/{action_id}/confirm", function = "orchestrator" },
    { method = "POST", path = "/actions/{action_id}/cancel", function = "orchestrator" },
    { method = "GET", path = "/audit", function = "orchestrator" },
    { method = "GET", path = "/health", function = "orchestrator" },
    { method = "POST", path = "/search", function = "vector_search" },
    { method = "POST", path = "/discord", function = "discord_handler", api_key_required = false },
  ]

  # Bedrock resources IAM must name: a model ID is a foundation model in this region; a
  # cross-region inference profile ID (us., eu., apac., jp., ... prefix) is the profile in this
  # region plus its foundation model in every destination region the profile routes to.
  inference_profile_prefix = "/^(us|eu|apac|jp|au|ca|us-gov|global)\\./"
  bedrock_model_arns = {
    for id in distinct([var.bedrock_embed_model_id, var.bedrock_haiku_model_id, var.bedrock_sonnet_model_id]) : id => (
      replace(id, local.inference_profile_prefix, "") == id
      ? ["arn:${local.partition}:bedrock:${var.region}::foundation-model/${id}"]
      : concat(
        ["arn:${local.partition}:bedrock:${var.region}:${var.account_id}:inference-profile/${id}"],
        [for r in var.bedrock_inference_regions : "arn:${local.partition}:bedrock:${r}::foundation-model/${replace(id, local.inference_profile_prefix, "")}"],
      )
    )
  }
  embed_model_arns = local.bedrock_model_arns[var.bedrock_embed_model_id]
  chat_model_arns  = distinct(concat(local.bedrock_model_arns[var.bedrock_haiku_model_id], local.bedrock_model_arns[var.bedrock_sonnet_model_id]))

  # Function settings (kass.settings): every function gets the stores it may touch by name, so
  # no function falls back to a default name of another environment.
  env_common = merge(
    {
      KASS_PROFILE    = "aws"
      KASS_AWS_REGION = var.region
    },
    module.dynamodb.environment_variables, # KASS_AWS_{CONVERSATIONS,CACHE,CHECKPOINTS,IDEMPOTENCY,ACTIONS}_TABLE
    module.s3.environment_variables,       # KASS_AWS_RAW_BUCKET, KASS_AWS_KMS_KEY_ID
  )
  # The functions that embed and read or write the index.
  env_index = merge(
    module.opensearch.environment_variables, # KASS_AWS_OPENSEARCH_{ENDPOINT,SERVICE,INDEX}
    {
      KASS_BEDROCK_EMBED_MODEL_ID  = var.bedrock_embed_model_id
      KASS_BEDROCK_EMBED_DIMENSION = tostring(var.bedrock_embed_dimension)
    },
  )
  # Where the connectors' credentials are (kass/<env>/connectors/<name>): data_fetcher reads
  # them to ingest, the orchestrator's agents to act (Backlog tickets, Slack, GitLab MRs).
  connector_secret_prefix = "kass/${var.environment}/connectors/"
  connector_secrets_statement = {
    # Secret ARNs end in a random 6-character suffix, hence the trailing *.
    sid       = "ConnectorSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${var.region}:${var.account_id}:secret:${local.connector_secret_prefix}*"]
  }
  env_connectors = { KASS_AWS_CONNECTOR_SECRET_PREFIX = local.connector_secret_prefix }

  # The function that answers.
  env_chat = merge(
    {
      KASS_CHAT_TIER               = var.chat_tier
      KASS_BEDROCK_HAIKU_MODEL_ID  = var.bedrock_haiku_model_id
      KASS_BEDROCK_SONNET_MODEL_ID = var.bedrock_sonnet_model_id
    },
    module.llm.environment_variables, # KASS_SAGEMAKER_ENDPOINT_NAME when enabled, else nothing
  )

  # The settings of the functions that answer (below).
  env_answer = merge(local.env_common, local.env_index, local.env_chat, local.env_connectors)

  # The page's origin: the API's CORS preflight answers (api module) and the headers the
  # functions the page calls put on their own responses, so the browser may read them.
  web_origin = "https://${module.frontend.distribution_domain_name}"
  env_web    = { KASS_CORS_ALLOW_ORIGIN = local.web_origin }

  # What the answering functions may do (the orchestrator; discord_handler, whose worker runs
  # the same chat use case; stream_handler, which streams it): conversations, proposed
  # actions, cache, index, models, secrets.
  chat_policy_statements = concat(
    [
      {
        sid       = "Conversations"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = [local.tables.conversations, module.dynamodb.conversations_owner_index_arn]
      },
      {
        # Proposed actions awaiting confirmation and the audit trail of the agents' actions.
        sid       = "Actions"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
        resources = [local.tables.actions]
      },
      local.connector_secrets_statement,
      {
        sid       = "ResponseCache"
        actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        resources = [local.tables.cache]
      },
      {
        sid       = "ReadIndexVersion"
        actions   = ["dynamodb:GetItem"]
        resources = [local.tables.checkpoints]
      },
      {
        # Converse uses bedrock:InvokeModel, ConverseStream bedrock:InvokeModelWithResponseStream.
        sid       = "InvokeBedrockModels"
        actions   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        resources = distinct(concat(local.embed_model_arns, local.chat_model_arns))
      },
    ],
    module.opensearch.policy_statements,
    module.llm.invoke_policy_statements,
  )
  # stream_handler's WebSocket connections: written on $connect, read to post, deleted on
  # $disconnect.
  connections_statement = {
    sid       = "WebSocketConnections"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [local.tables.connections]
  }
  idempotency_statement = {
    sid       = "IdempotencyRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [local.tables.idempotency]
  }
  # discord_handler (its worker) and stream_handler (its turns) invoke themselves asynchronously
  # (kass.dispatch); their ARNs are built from the names the lambda module gives them, since a
  # function's own ARN output would be a cycle.
  discord_handler_arn = "arn:${local.partition}:lambda:${var.region}:${var.account_id}:function:${local.name_prefix}-discord-handler"
  stream_handler_arn  = "arn:${local.partition}:lambda:${var.region}:${var.account_id}:function:${local.name_prefix}-stream-handler"
  # stream_handler's statements beyond the chat's.
  stream_handler_statements = [
    local.connections_statement,
    local.idempotency_statement, # the handed-off turns' records, keyed on the message id
    {
      # $default's hand-off: InvocationType=Event on its own ARN (unqualified, or :version/alias).
      sid       = "InvokeOwnTurns"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.stream_handler_arn, "${local.stream_handler_arn}:*"]
    },
  ]

  tables = module.dynamodb.table_arns
  functions_with_index = {
    orchestrator       = module.orchestrator
    vector_search      = module.vector_search
    document_processor = module.document_processor
    discord_handler    = module.discord_handler
    stream_handler     = module.stream_handler
  }
  all_functions = merge(local.functions_with_index, { data_fetcher = module.data_fetcher })
}

# -- key, network ------------------------------------------------------------------------------

module "kms" {
  source = "../../modules/kms"

  name_prefix             = local.name_prefix
  deletion_window_in_days = var.kms_deletion_window_days
}

module "vpc" {
  source = "../../modules/vpc"
  count  = var.vpc_enabled ? 1 : 0

  name_prefix                 = local.name_prefix
  cidr_block                  = var.vpc_cidr_block
  availability_zones          = var.vpc_availability_zones
  interface_endpoint_services = var.vpc_interface_endpoint_services
  nat_gateway_enabled         = var.vpc_nat_gateway_enabled
  flow_logs_retention_days    = var.log_retention_days
  flow_logs_kms_key_arn       = module.kms.key_arn
}

# -- stores ------------------------------------------------------------------------------------

module "dynamodb" {
  source = "../../modules/dynamodb"

  name_prefix         = local.name_prefix
  kms_key_arn         = module.kms.key_arn
  deletion_protection = var.deletion_protection
}

module "s3" {
  source = "../../modules/s3"

  name_prefix                        = local.name_prefix
  bucket_name_suffix                 = "-${var.account_id}" # bucket names are global
  kms_key_arn                        = module.kms.key_arn
  noncurrent_version_expiration_days = var.raw_noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
}

module "opensearch" {
  #checkov:skip=CKV_AWS_338:Log retention is a per-environment cost decision (log_retention_days): prod keeps 365 days, dev and staging keep 14 and 30 on purpose.
  source = "../../modules/opensearch"

  name_prefix      = local.name_prefix
  engine           = var.opensearch_engine
  principal_arns   = [for f in values(local.functions_with_index) : f.role_arn]
  index_name       = var.opensearch_index
  kms_key_arn      = module.kms.key_arn
  standby_replicas = var.opensearch_standby_replicas

  # Serverless: private through the VPC's aoss endpoint when there is one, else public
  # (SigV4 + the data access policy still apply).
  aoss_vpc_endpoint_ids = compact(module.vpc[*].aoss_vpc_endpoint_id)

  # Domain: in the private subnets, behind the endpoints' security group, which admits HTTPS
  # from the functions' security group (the functions may send HTTPS only there).
  subnet_ids            = var.opensearch_engine == "domain" ? flatten(module.vpc[*].private_subnet_ids) : []
  security_group_ids    = var.opensearch_engine == "domain" ? module.vpc[*].endpoints_security_group_id : []
  domain_instance_type  = var.opensearch_domain_instance_type
  domain_instance_count = var.opensearch_domain_instance_count
  domain_volume_size_gb = var.opensearch_domain_volume_size_gb
  log_retention_days    = var.log_retention_days
}

# -- code --------------------------------------------------------------------------------------

module "core_layer" {
  source = "../../modules/lambda_layer"

  name_prefix  = local.name_prefix
  name         = "core"
  description  = "kass package + core dependencies (make build)"
  zip_path     = "${local.dist_dir}/layers/core.zip"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
}

module "connectors_layer" {
  source = "../../modules/lambda_layer"

  name_prefix  = local.name_prefix
  name         = "connectors"
  description  = "GitLab, Slack and Backlog client libraries (make build): data_fetcher, orchestrator"
  zip_path     = "${local.dist_dir}/layers/connectors.zip"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
}

module "agent_layer" {
  source = "../../modules/lambda_layer"

  name_prefix  = local.name_prefix
  name         = "agent"
  description  = "LangChain/LangGraph agent dependencies (make build): orchestrator, discord_handler"
  zip_path     = "${local.dist_dir}/layers/agent.zip"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
}

module "discord_layer" {
  source = "../../modules/lambda_layer"

  name_prefix  = local.name_prefix
  name         = "discord"
  description  = "PyNaCl for Discord's Ed25519 signatures (make build), discord_handler only"
  zip_path     = "${local.dist_dir}/layers/discord.zip"
  runtime      = var.lambda_runtime
  architecture = var.lambda_architecture
}

# -- functions (kass.api.routes.FUNCTIONS) -----------------------------------------------------

module "orchestrator" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "orchestrator"
  description          = "kass chat API: POST /chat, GET /conversations[/{id}], GET /health"
  zip_path             = "${local.dist_dir}/functions/orchestrator.zip"
  layer_arns           = [module.core_layer.arn, module.connectors_layer.arn, module.agent_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["orchestrator"].memory_size
  timeout_seconds      = var.functions["orchestrator"].timeout_seconds
  reserved_concurrency = var.functions["orchestrator"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = local.vpc_config

  environment_variables = merge(local.env_answer, local.env_web, var.function_environment_overrides)

  policy_statements = local.chat_policy_statements
}

module "discord_handler" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "discord_handler"
  description          = "kass Discord bot: POST /discord (signed interactions) and its asynchronous worker"
  zip_path             = "${local.dist_dir}/functions/discord_handler.zip"
  layer_arns           = [module.core_layer.arn, module.connectors_layer.arn, module.agent_layer.arn, module.discord_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["discord_handler"].memory_size
  timeout_seconds      = var.functions["discord_handler"].timeout_seconds
  reserved_concurrency = var.functions["discord_handler"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = local.vpc_config # the index; Discord and Lambda through the NAT

  # The worker's job edits a reply whose interaction token lives 15 minutes: an event older
  # than that is useless. The retries re-run it (idempotent on the interaction id); a job that
  # still fails goes to the function's DLQ.
  async_max_retry_attempts    = 2
  async_max_event_age_seconds = 900

  # Without a public key the function refuses every request (401): Discord then will not save
  # the endpoint URL, and nothing reaches the worker.
  environment_variables = merge(
    local.env_answer,
    var.discord_public_key == null ? {} : { KASS_DISCORD_PUBLIC_KEY = var.discord_public_key },
    var.function_environment_overrides,
  )

  policy_statements = concat(
    local.chat_policy_statements,
    [
      local.idempotency_statement, # the worker's records, keyed on the interaction id
      {
        # The hand-off: InvocationType=Event on its own ARN (unqualified, or :version/alias).
        sid       = "InvokeOwnWorker"
        actions   = ["lambda:InvokeFunction"]
        resources = [local.discord_handler_arn, "${local.discord_handler_arn}:*"]
      },
    ],
  )
}

module "stream_handler" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "stream_handler"
  description          = "kass streaming answers: WebSocket $connect (and its API-key authorizer), $disconnect, $default"
  zip_path             = "${local.dist_dir}/functions/stream_handler.zip"
  layer_arns           = [module.core_layer.arn, module.connectors_layer.arn, module.agent_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["stream_handler"].memory_size
  timeout_seconds      = var.functions["stream_handler"].timeout_seconds
  reserved_concurrency = var.functions["stream_handler"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = local.vpc_config # the index; the management API and Lambda (the hand-off) through the NAT

  # $default hands each message to an asynchronous invocation of the function (API Gateway
  # waits at most 29 s for it; a turn can take longer). That job is for a user waiting on the
  # socket: queued longer than 2 minutes it is useless, so it goes to the DLQ (and its alarm)
  # instead of running. Product errors end a turn in an error frame, not a failure, so only a
  # crash is retried (idempotent on the message id); after a timeout (120 s) the event is too
  # old already, so one retry, of a turn that failed fast, is all that can help.
  async_max_retry_attempts    = 1
  async_max_event_age_seconds = 120

  # KASS_AWS_CONNECTIONS_TABLE and KASS_AWS_IDEMPOTENCY_TABLE come with the other tables
  # (env_common); the management API's URL (https://{domainName}/{stage}) with each event.
  # Not env_web: it serves no REST route, and the page's origin depends on its WebSocket API.
  environment_variables = merge(local.env_answer, var.function_environment_overrides)

  # Posting to the connections (execute-api:ManageConnections) is granted by the api module.
  policy_statements = concat(local.chat_policy_statements, local.stream_handler_statements)
}

module "vector_search" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "vector_search"
  description          = "kass search API: POST /search"
  zip_path             = "${local.dist_dir}/functions/vector_search.zip"
  layer_arns           = [module.core_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["vector_search"].memory_size
  timeout_seconds      = var.functions["vector_search"].timeout_seconds
  reserved_concurrency = var.functions["vector_search"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = local.vpc_config

  environment_variables = merge(local.env_common, local.env_index, local.env_web, var.function_environment_overrides)

  policy_statements = concat(
    [{
      sid       = "EmbedQueries"
      actions   = ["bedrock:InvokeModel"]
      resources = local.embed_model_arns
    }],
    module.opensearch.policy_statements,
  )
}

module "document_processor" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "document_processor"
  description          = "kass ingestion: raw document events (SQS) -> parse, chunk, embed, index"
  zip_path             = "${local.dist_dir}/functions/document_processor.zip"
  layer_arns           = [module.core_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["document_processor"].memory_size
  timeout_seconds      = var.functions["document_processor"].timeout_seconds
  reserved_concurrency = var.functions["document_processor"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = local.vpc_config

  environment_variables = merge(local.env_common, local.env_index, var.function_environment_overrides)

  policy_statements = concat(
    module.s3.reader_policy_statements,             # s3:GetObject on raw/*, ListBucket, kms:Decrypt
    module.eventbridge.processor_policy_statements, # receive/delete on its queue, kms:Decrypt
    [
      local.idempotency_statement,
      {
        sid       = "BumpIndexVersion"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        resources = [local.tables.checkpoints]
      },
      {
        sid       = "EmbedChunks"
        actions   = ["bedrock:InvokeModel"]
        resources = local.embed_model_arns
      },
    ],
    module.opensearch.policy_statements,
  )
}

module "data_fetcher" {
  source = "../../modules/lambda"

  name_prefix          = local.name_prefix
  name                 = "data_fetcher"
  description          = "kass ingestion: scheduled connector runs (GitLab, Slack, Backlog) -> raw bucket"
  zip_path             = "${local.dist_dir}/functions/data_fetcher.zip"
  layer_arns           = [module.core_layer.arn, module.connectors_layer.arn]
  runtime              = var.lambda_runtime
  architecture         = var.lambda_architecture
  memory_size          = var.functions["data_fetcher"].memory_size
  timeout_seconds      = var.functions["data_fetcher"].timeout_seconds
  reserved_concurrency = var.functions["data_fetcher"].reserved_concurrency
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days
  log_kms_key_arn      = module.kms.key_arn
  kms_key_arn          = module.kms.key_arn
  alarm_topic_arn      = module.monitoring.sns_topic_arn
  vpc_config           = null # calls GitLab, Slack and Backlog directly: no NAT data charges

  environment_variables = merge(local.env_common, local.env_connectors, var.function_environment_overrides)

  policy_statements = concat(
    module.s3.writer_policy_statements, # s3:Get/Put/DeleteObject on raw/*, ListBucket, kms
    [
      {
        sid       = "Checkpoints"
        actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        resources = [local.tables.checkpoints]
      },
      local.connector_secrets_statement,
    ],
  )
}

# -- events ------------------------------------------------------------------------------------

module "eventbridge" {
  source = "../../modules/eventbridge"

  name_prefix                = local.name_prefix
  kms_key_arn                = module.kms.key_arn
  schedules                  = var.connector_schedules
  data_fetcher_function_name = module.data_fetcher.function_name
  data_fetcher_arn           = module.data_fetcher.invoke_target_arn
  data_fetcher_qualifier     = module.data_fetcher.qualifier
  bucket_name                = module.s3.bucket_name
  processor_arn              = module.document_processor.invoke_target_arn
  processor_timeout_seconds  = var.functions["document_processor"].timeout_seconds
  batch_size                 = var.document_events_batch_size
}

# -- self-hosted 7B tier -----------------------------------------------------------------------

module "llm" {
  #checkov:skip=CKV_AWS_338:Log retention is a per-environment cost decision (log_retention_days): prod keeps 365 days, dev and staging keep 14 and 30 on purpose.
  source = "../../modules/sagemaker_endpoint"

  enabled                = var.sagemaker_enabled
  name_prefix            = local.name_prefix
  image_uri              = var.sagemaker_image_uri
  model_data_s3_uri      = var.sagemaker_enabled ? "s3://${module.s3.bucket_name}/${var.sagemaker_model_key_prefix}" : null
  model_data_kms_key_arn = module.kms.key_arn # the raw bucket's SSE-KMS key
  environment            = var.sagemaker_environment
  instance_type          = var.sagemaker_instance_type
  min_capacity           = var.sagemaker_min_capacity
  max_capacity           = var.sagemaker_max_capacity
  log_retention_days     = var.log_retention_days
  # Not the environment key: the module also encrypts the office-hours schedules with it, and
  # its scheduler role has no kms:Decrypt to read them back (docs/deploy.md, SageMaker).
  kms_key_arn       = null
  schedule_enabled  = var.sagemaker_schedule_enabled
  schedule_timezone = var.sagemaker_schedule_timezone
  start_cron        = var.sagemaker_start_cron
  stop_cron         = var.sagemaker_stop_cron
  autoscaling_cron  = var.sagemaker_autoscaling_cron
}

# -- front ends --------------------------------------------------------------------------------

module "api" {
  source = "../../modules/api_gateway"

  name_prefix = local.name_prefix
  routes = [for r in local.http_routes : {
    method           = r.method
    path             = r.path
    function_name    = local.functions_with_index[r.function].function_name
    invoke_arn       = local.functions_with_index[r.function].invoke_arn
    api_key_required = try(r.api_key_required, true)
  }]
  websocket_function = {
    function_name = module.stream_handler.function_name
    invoke_arn    = module.stream_handler.invoke_arn
    role_name     = module.stream_handler.role_name
  }
  api_key_names                  = var.api_key_names
  throttle_rate_limit            = var.api_throttle_rate_limit
  throttle_burst_limit           = var.api_throttle_burst_limit
  quota_limit                    = var.api_quota_per_day
  quota_period                   = "DAY"
  cors_allow_origin              = local.web_origin
  log_retention_days             = var.log_retention_days
  log_kms_key_arn                = module.kms.key_arn
  manage_account_cloudwatch_role = var.api_manage_account_cloudwatch_role
}

module "frontend" {
  source = "../../modules/frontend"

  name_prefix   = local.name_prefix
  api_origins   = [module.api.origin, module.api.websocket_origin]
  web_dir       = "${path.root}/../../../web"
  api_url       = module.api.invoke_url
  stream_url    = module.api.websocket_url
  api_key       = module.api.api_key_values["web"] # public to whoever loads the page (module README)
  price_class   = var.web_price_class
  force_destroy = var.force_destroy
}

# -- monitoring --------------------------------------------------------------------------------

module "monitoring" {
  source = "../../modules/monitoring"

  name_prefix      = local.name_prefix
  function_names   = [for f in values(local.all_functions) : f.function_name]
  extra_alarm_arns = flatten([for f in values(local.all_functions) : values(f.alarm_arns)])
  dlq_names = concat(
    [for f in values(local.all_functions) : f.dlq_name],
    [module.eventbridge.dlq_name, module.eventbridge.events_dlq_name],
  )
  api_gateway = { name = module.api.rest_api_name, stage = module.api.stage_name }
  websocket_api = {
    id      = module.api.websocket_api_id
    name    = module.api.websocket_api_name
    stage   = module.api.stage_name
    service = "stream_handler" # POWERTOOLS_SERVICE_NAME = the lambda module's name
  }
  sagemaker_endpoint_name = module.llm.endpoint_name
  alarm_emails            = var.alarm_emails
  monthly_budget_usd      = var.monthly_budget_usd
  budget_cost_tag         = { key = "environment", value = var.environment } # provider default tag
  # The topic's own key (create_kms_key defaults to true): its policy lets CloudWatch and Budgets
  # publish, which the environment's key does not grant.
  kms_key_arn = null
}

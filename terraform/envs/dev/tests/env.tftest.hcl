# This environment planned with its own terraform.tfvars against a mocked AWS provider: no
# credentials, no network, no state (`terraform init -backend=false`, then `terraform test`;
# `make tf-test`). Stand-in zips replace dist/, so no `make build` is needed. Identical in every
# environment (a unit test compares them).
#
# - `aws` leaves computed attributes unknown, as on a first real plan (every ARN is unknown until
#   apply), which catches count/for_each that depend on not-yet-created resources.
# - `aws.known` gives them realistic values during the plan, so the modules' input validations
#   (ARN shapes, invoke ARNs, layer ARNs, IDs) see the values the environment wires in.
# - The remaining runs show bad input failing at plan time with a message saying what to set.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

mock_provider "aws" {
  alias           = "known"
  override_during = plan

  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:ap-northeast-1:111111111111:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_kms_alias" {
    defaults = { arn = "arn:aws:kms:ap-northeast-1:111111111111:alias/kass-mock" }
  }
  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn       = "arn:aws:lambda:ap-northeast-1:111111111111:layer:kass-mock-core:1"
      layer_arn = "arn:aws:lambda:ap-northeast-1:111111111111:layer:kass-mock-core"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:ap-northeast-1:111111111111:function:kass-mock"
      invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:111111111111:function:kass-mock/invocations"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/kass-mock" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:ap-northeast-1:111111111111:kass-mock-alarms" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:kass-mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-northeast-1:111111111111:log-group:kass-mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:ap-northeast-1:111111111111:kass-mock"
      url = "https://sqs.ap-northeast-1.amazonaws.com/111111111111/kass-mock"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:ap-northeast-1:111111111111:table/kass-mock" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::kass-mock" }
  }
  mock_resource "aws_opensearch_domain" {
    defaults = {
      arn      = "arn:aws:es:ap-northeast-1:111111111111:domain/kass-mock-idx"
      endpoint = "vpc-kass-mock-idx-abc123.ap-northeast-1.es.amazonaws.com"
    }
  }
  mock_resource "aws_opensearchserverless_collection" {
    defaults = {
      arn                 = "arn:aws:aoss:ap-northeast-1:111111111111:collection/abc123def456"
      id                  = "abc123def456"
      collection_endpoint = "https://abc123def456.ap-northeast-1.aoss.amazonaws.com"
    }
  }
  mock_resource "aws_opensearchserverless_vpc_endpoint" {
    defaults = { id = "vpce-0123456789abcdef0" }
  }
  mock_resource "aws_subnet" {
    defaults = { id = "subnet-0123456789abcdef0", arn = "arn:aws:ec2:ap-northeast-1:111111111111:subnet/subnet-0123456789abcdef0" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0", arn = "arn:aws:ec2:ap-northeast-1:111111111111:security-group/sg-0123456789abcdef0" }
  }
  mock_resource "aws_vpc" {
    defaults = { id = "vpc-0123456789abcdef0", arn = "arn:aws:ec2:ap-northeast-1:111111111111:vpc/vpc-0123456789abcdef0" }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = { id = "vpce-0fedcba9876543210", prefix_list_id = "pl-61a54008" }
  }
  mock_resource "aws_eip" {
    defaults = { id = "eipalloc-0123456789abcdef0", public_ip = "203.0.113.10" }
  }
  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      id               = "abc123defg"
      root_resource_id = "rootid1234"
      arn              = "arn:aws:apigateway:ap-northeast-1::/restapis/abc123defg"
      execution_arn    = "arn:aws:execute-api:ap-northeast-1:111111111111:abc123defg"
    }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = { invoke_url = "https://abc123defg.execute-api.ap-northeast-1.amazonaws.com/v1" }
  }
  mock_resource "aws_api_gateway_api_key" {
    defaults = { id = "key1234567", value = "mock-web-api-key-value-for-the-tests" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "ws123defgh"
      execution_arn = "arn:aws:execute-api:ap-northeast-1:111111111111:ws123defgh"
    }
  }
  mock_resource "aws_apigatewayv2_stage" {
    defaults = { invoke_url = "wss://ws123defgh.execute-api.ap-northeast-1.amazonaws.com/v1" }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      id          = "E2MOCKDISTRIB"
      arn         = "arn:aws:cloudfront::111111111111:distribution/E2MOCKDISTRIB"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
}

variables {
  dist_dir = "tests/fixtures/zips"
}

run "plans_with_unknown_values_as_on_a_first_apply" {
  command = plan

  assert {
    condition     = alltrue([for name in values(output.function_names) : startswith(name, "kass-${var.environment}-")])
    error_message = "Every function is named kass-<environment>-..."
  }
  assert {
    condition     = output.table_names.conversations == "kass-${var.environment}-conversations"
    error_message = "Tables are named kass-<environment>-<kind>."
  }
  assert {
    condition     = output.raw_bucket_name == "kass-${var.environment}-raw-${var.account_id}"
    error_message = "The raw bucket is kass-<environment>-raw-<account id> (bucket names are global)."
  }
  assert {
    condition     = toset(keys(output.connector_secret_names)) == toset(keys(var.connector_schedules)) && alltrue([for name, secret in output.connector_secret_names : secret == "kass/${var.environment}/connectors/${name}"])
    error_message = "Each scheduled connector reads the secret kass/<environment>/connectors/<name>."
  }
  assert {
    # Keyed on names, not the API's ID (unknown here, as on a first apply: for_each would fail).
    condition = alltrue([for k in ["websocket_integration_errors kass-${var.environment}-stream", "websocket_execution_errors kass-${var.environment}-stream", "stream_errors stream_handler", "api_5xx kass-${var.environment}-api"] :
      contains(keys(module.monitoring.alarm_names), k)
    ])
    error_message = "The monitoring module alarms on the REST API, the WebSocket API and stream_handler's StreamErrors."
  }
  assert {
    # The function alarms come from the lambda module; the monitoring module must not repeat them.
    condition     = length([for k in keys(module.monitoring.alarm_names) : k if startswith(k, "lambda_")]) == 0 && length(module.stream_handler.alarm_arns) == 3
    error_message = "stream_handler's errors, throttles and p95 duration are alarmed once, by the lambda module."
  }
}

run "plans_with_known_values_through_the_modules_validations" {
  command = plan

  providers = {
    aws = aws.known
  }

  # Settings the functions read (kass.settings): exactly these keys, per function's role.
  assert {
    condition = toset(keys(local.env_common)) == toset([
      "KASS_PROFILE", "KASS_AWS_REGION", "KASS_AWS_RAW_BUCKET", "KASS_AWS_KMS_KEY_ID",
      "KASS_AWS_CONVERSATIONS_TABLE", "KASS_AWS_CACHE_TABLE", "KASS_AWS_CHECKPOINTS_TABLE", "KASS_AWS_IDEMPOTENCY_TABLE",
      "KASS_AWS_ACTIONS_TABLE", "KASS_AWS_CONNECTIONS_TABLE",
    ])
    error_message = "Every function gets the profile, region, tables, raw bucket and KMS key settings."
  }
  assert {
    condition = toset(keys(local.env_index)) == toset([
      "KASS_AWS_OPENSEARCH_ENDPOINT", "KASS_AWS_OPENSEARCH_SERVICE", "KASS_AWS_OPENSEARCH_INDEX",
      "KASS_BEDROCK_EMBED_MODEL_ID", "KASS_BEDROCK_EMBED_DIMENSION",
    ])
    error_message = "The index functions get the OpenSearch and embedding settings."
  }
  assert {
    condition     = local.env_common.KASS_PROFILE == "aws" && local.env_common.KASS_AWS_RAW_BUCKET == output.raw_bucket_name && local.env_common.KASS_AWS_CHECKPOINTS_TABLE == output.table_names.checkpoints
    error_message = "The functions' settings name this environment's bucket and tables."
  }
  assert {
    condition     = local.env_connectors.KASS_AWS_CONNECTOR_SECRET_PREFIX == "kass/${var.environment}/connectors/" && endswith(one(local.connector_secrets_statement.resources), ":secret:kass/${var.environment}/connectors/*")
    error_message = "data_fetcher and the orchestrator read the connector secrets kass/<environment>/connectors/* only."
  }
  assert {
    condition     = local.env_index.KASS_AWS_OPENSEARCH_SERVICE == (var.opensearch_engine == "serverless" ? "aoss" : "es")
    error_message = "The signing service matches the engine: aoss for Serverless, es for a domain."
  }
  assert {
    condition     = lookup(local.env_chat, "KASS_SAGEMAKER_ENDPOINT_NAME", null) == (var.sagemaker_enabled ? "kass-${var.environment}-llm" : null)
    error_message = "KASS_SAGEMAKER_ENDPOINT_NAME is set exactly when the 7B tier is enabled."
  }
  assert {
    condition     = alltrue([for arn in concat(local.embed_model_arns, local.chat_model_arns) : startswith(arn, "arn:aws:bedrock:") && !endswith(arn, "*")])
    error_message = "Bedrock permissions name models and inference profiles, never a wildcard."
  }
  assert {
    condition     = output.api_url == "https://abc123defg.execute-api.ap-northeast-1.amazonaws.com/v1" && output.web_url == "https://d111111abcdef8.cloudfront.net"
    error_message = "The API and web URLs come from the api_gateway and frontend modules."
  }
  assert {
    condition     = output.discord_interactions_url == "${output.api_url}/discord"
    error_message = "Discord's Interactions Endpoint URL is the stage URL + /discord."
  }
  assert {
    condition     = [for r in local.http_routes : r.path if !try(r.api_key_required, true)] == ["/discord"]
    error_message = "Only POST /discord is keyless (Discord signs its requests); every other route needs the API key."
  }
  assert {
    condition     = local.discord_handler_arn == "arn:aws:lambda:${var.region}:${var.account_id}:function:${output.function_names.discord_handler}"
    error_message = "The ARN discord_handler may invoke (its own worker) is the deployed function's."
  }
  assert {
    condition     = local.stream_handler_arn == "arn:aws:lambda:${var.region}:${var.account_id}:function:${output.function_names.stream_handler}"
    error_message = "The ARN stream_handler may invoke (its handed-off turns) is the deployed function's."
  }
  assert {
    # Across all its statements, chat ones included: only its own ARN (or a version/alias of it).
    condition     = [for s in concat(local.chat_policy_statements, local.stream_handler_statements) : s.resources if contains(s.actions, "lambda:InvokeFunction")] == [[local.stream_handler_arn, "${local.stream_handler_arn}:*"]]
    error_message = "stream_handler may invoke itself, asynchronously, and no other function."
  }
  assert {
    condition     = contains([for s in local.stream_handler_statements : s.sid], local.idempotency_statement.sid) && [for s in local.stream_handler_statements : s.resources if s.sid == local.idempotency_statement.sid] == [[local.tables.idempotency]] && local.env_answer.KASS_AWS_IDEMPOTENCY_TABLE == output.table_names.idempotency
    error_message = "stream_handler's turns are idempotent: it may use the idempotency table, named in KASS_AWS_IDEMPOTENCY_TABLE."
  }
  assert {
    condition     = output.function_names.stream_handler == "kass-${var.environment}-stream-handler" && output.table_names.connections == "kass-${var.environment}-connections"
    error_message = "The streaming function and its connections table are named kass-<environment>-..."
  }
  assert {
    condition     = local.env_answer.KASS_AWS_CONNECTIONS_TABLE == output.table_names.connections && local.env_answer.KASS_AWS_CONVERSATIONS_TABLE == output.table_names.conversations && local.env_answer.KASS_CHAT_TIER == var.chat_tier
    error_message = "stream_handler runs the chat like the orchestrator (same settings) and finds the connections table through KASS_AWS_CONNECTIONS_TABLE."
  }
  assert {
    condition     = local.connections_statement.actions == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"] && local.connections_statement.resources == [local.tables.connections]
    error_message = "stream_handler may read, write and delete connection rows, in the connections table only."
  }
  assert {
    condition     = output.websocket_url == "wss://ws123defgh.execute-api.ap-northeast-1.amazonaws.com/v1"
    error_message = "websocket_url is the api module's WebSocket stage URL."
  }
  assert {
    condition     = strcontains(module.frontend.content_security_policy, "connect-src 'self' https://abc123defg.execute-api.ap-northeast-1.amazonaws.com wss://ws123defgh.execute-api.ap-northeast-1.amazonaws.com;")
    error_message = "The page's CSP lets it reach the REST API and the WebSocket API, nothing else."
  }
  assert {
    condition     = module.frontend.files["index.html"] == "text/html; charset=utf-8" && module.frontend.files["config.json"] == "application/json" && alltrue([for key, type in module.frontend.files : type != null])
    error_message = "The page (web/) is uploaded with a Content-Type per file, plus the generated config.json."
  }
  assert {
    condition     = contains(var.api_key_names, "web") && !contains(var.api_key_names, "discord")
    error_message = "The page has its \"web\" key; no \"discord\" key (POST /discord is keyless: Discord signs its requests)."
  }
  assert {
    condition     = output.nat_gateway_public_ip == (var.vpc_enabled && var.vpc_nat_gateway_enabled ? "203.0.113.10" : null)
    error_message = "With the VPC and vpc_nat_gateway_enabled, nat_gateway_public_ip is the NAT's Elastic IP (to allow-list); otherwise null."
  }
}

run "environment_outside_dev_staging_prod_is_rejected" {
  command = plan
  variables {
    environment = "qa"
  }
  expect_failures = [var.environment]
}

run "environment_of_another_directory_is_rejected" {
  command = plan
  variables {
    environment = var.environment == "prod" ? "dev" : "prod"
  }
  expect_failures = [var.environment]
}

run "cpu_instance_type_for_the_7b_model_is_rejected" {
  command = plan
  variables {
    sagemaker_instance_type = "ml.m5.xlarge"
  }
  expect_failures = [var.sagemaker_instance_type]
}

run "log_retention_out_of_range_is_rejected" {
  command = plan
  variables {
    log_retention_days = 9999
  }
  expect_failures = [var.log_retention_days]
}

run "empty_subnet_zone_list_is_rejected" {
  command = plan
  variables {
    vpc_enabled            = true
    vpc_availability_zones = []
  }
  expect_failures = [var.vpc_availability_zones]
}

run "domain_engine_without_vpc_is_rejected" {
  command = plan
  variables {
    vpc_enabled       = false
    opensearch_engine = "domain"
  }
  expect_failures = [var.opensearch_engine]
}

run "sagemaker_tier_without_the_endpoint_is_rejected" {
  command = plan
  variables {
    sagemaker_enabled = false
    chat_tier         = "sagemaker"
  }
  expect_failures = [var.chat_tier]
}

run "malformed_connector_schedule_is_rejected" {
  command = plan
  variables {
    connector_schedules = { gitlab = "every 15 minutes" }
  }
  expect_failures = [var.connector_schedules]
}

run "missing_function_sizing_is_rejected" {
  command = plan
  variables {
    functions = {
      orchestrator = { memory_size = 1024, timeout_seconds = 30, reserved_concurrency = 1 }
    }
  }
  expect_failures = [var.functions]
}

run "discord_bot_token_instead_of_public_key_is_rejected" {
  command = plan
  variables {
    discord_public_key = "MTI0MDAwMDAwMDAwMDAwMDAwMA.GxYzAb.abcdefghijklmnopqrstuvwxyz0123456789AB"
  }
  expect_failures = [var.discord_public_key]
}

run "api_keys_without_the_pages_key_are_rejected" {
  command = plan
  variables {
    api_key_names = ["ci"]
  }
  expect_failures = [var.api_key_names]
}

run "secret_looking_function_environment_is_rejected" {
  command = plan
  variables {
    function_environment_overrides = { GITLAB_TOKEN = "glpat-..." }
  }
  expect_failures = [var.function_environment_overrides]
}

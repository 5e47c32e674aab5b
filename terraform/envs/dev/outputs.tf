output "environment" {
  description = "Environment name (dev, staging or prod)."
  value       = var.environment
}

output "api_url" {
  description = "Base URL of the REST API (append /chat, /search, /health ...); send an API key as x-api-key."
  value       = module.api.invoke_url
}

output "discord_interactions_url" {
  description = "Discord's Interactions Endpoint URL (Developer Portal, General Information): POST /discord, no API key, Ed25519-signed by Discord; answers 401 until discord_public_key is set."
  value       = "${module.api.invoke_url}/discord"
}

output "api_key_ids" {
  description = "API key IDs by client name (values: `terraform output -json api_key_values`)."
  value       = module.api.api_key_ids
}

output "api_key_values" {
  description = "API key values by client name (sensitive)."
  value       = module.api.api_key_values
  sensitive   = true
}

output "web_url" {
  description = "URL of the chat page (CloudFront)."
  value       = module.frontend.url
}

output "websocket_url" {
  description = "wss:// URL of the streaming API (docs/api/streaming.md); connect with ?api_key=<key>."
  value       = module.api.websocket_url
}

output "web_bucket_name" {
  description = "Bucket of the chat page (Terraform uploads web/ and config.json)."
  value       = module.frontend.bucket_name
}

output "web_distribution_id" {
  description = "CloudFront distribution of the chat page (for cache invalidations)."
  value       = module.frontend.distribution_id
}

output "raw_bucket_name" {
  description = "Raw documents bucket (raw/<source>/<doc_id>.json; the 7B model's weights under models/)."
  value       = module.s3.bucket_name
}

output "table_names" {
  description = "DynamoDB table names by kind: conversations, cache, checkpoints, idempotency, actions, connections."
  value       = module.dynamodb.table_names
}

output "function_names" {
  description = "Lambda function names by kass function (kass.api.routes.FUNCTIONS)."
  value       = { for name, f in local.all_functions : name => f.function_name }
}

output "opensearch_engine" {
  description = "serverless (collection) or domain."
  value       = module.opensearch.engine
}

output "opensearch_endpoint" {
  description = "Endpoint of the chunk index (KASS_AWS_OPENSEARCH_ENDPOINT)."
  value       = module.opensearch.endpoint
}

output "document_events_queue_url" {
  description = "SQS queue between the raw bucket's events and document_processor."
  value       = module.eventbridge.queue_url
}

output "connector_secret_names" {
  description = "Secrets Manager names data_fetcher reads, per scheduled connector (create them before the first run: docs/deploy.md)."
  value       = { for name in keys(var.connector_schedules) : name => "kass/${var.environment}/connectors/${name}" }
}

output "sagemaker_endpoint_name" {
  description = "Name of the 7B endpoint (null when the tier is off)."
  value       = module.llm.endpoint_name
}

output "sagemaker_endpoint_config_name" {
  description = "Endpoint configuration the office-hours schedule creates the endpoint from (start it by hand: docs/deploy.md)."
  value       = module.llm.endpoint_config_name
}

output "sagemaker_model_data_s3_uri" {
  description = "Where the endpoint reads the 7B model's weights (upload them there before the first start); null when the tier is off."
  value       = var.sagemaker_enabled ? "s3://${module.s3.bucket_name}/${var.sagemaker_model_key_prefix}" : null
}

output "kms_key_arn" {
  description = "The environment's KMS key."
  value       = module.kms.key_arn
}

output "kms_alias_name" {
  description = "Alias of the environment's KMS key (for the connectors' secrets)."
  value       = module.kms.alias_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the environment's alarms and budget notifications."
  value       = module.monitoring.sns_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard of the environment."
  value       = module.monitoring.dashboard_url
}

output "nat_gateway_public_ip" {
  description = "Address the VPC functions' internet calls (the agents' GitLab, Slack, Backlog calls) come from: allow-list it where a service restricts callers by IP. Null without vpc_nat_gateway_enabled."
  value       = one(module.vpc[*].nat_gateway_public_ip)
}

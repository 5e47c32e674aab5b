# kass dev: small and cheap. Idle cost and the assumptions behind it: docs/cost.md.
environment = "dev"
account_id  = "111111111111" # REPLACE with the dev account's ID (and the bucket in backend.hcl)
region      = "ap-northeast-1"

functions = {
  orchestrator       = { memory_size = 1024, timeout_seconds = 30, reserved_concurrency = 5 }
  vector_search      = { memory_size = 1024, timeout_seconds = 10, reserved_concurrency = 5 }
  document_processor = { memory_size = 1024, timeout_seconds = 120, reserved_concurrency = 2 }
  data_fetcher       = { memory_size = 512, timeout_seconds = 900, reserved_concurrency = 1 }
  discord_handler    = { memory_size = 1024, timeout_seconds = 300, reserved_concurrency = 3 }
  stream_handler     = { memory_size = 1024, timeout_seconds = 120, reserved_concurrency = 5 }
}
log_level          = "INFO"
log_retention_days = 14

# A managed OpenSearch domain (1 x t3.small.search, ~$26/month) instead of Serverless (1 OCU
# floor without standby, ~$175/month): it needs the VPC, kept to one zone and one interface
# endpoint (bedrock-runtime). No xray endpoint: the tracer's subsegments leave through the NAT
# gateway (its per-GB charge), which the agents need anyway.
vpc_enabled                     = true
vpc_availability_zones          = ["ap-northeast-1a"]
vpc_interface_endpoint_services = ["bedrock-runtime"]
vpc_nat_gateway_enabled         = true # the agents' GitLab/Slack/Backlog calls and connector secrets

opensearch_engine                = "domain"
opensearch_domain_instance_type  = "t3.small.search"
opensearch_domain_instance_count = 1
opensearch_domain_volume_size_gb = 10

# Japan-only cross-region inference profiles (Tokyo + Osaka): data stays in Japan.
bedrock_haiku_model_id    = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
bedrock_sonnet_model_id   = "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
bedrock_inference_regions = ["ap-northeast-1", "ap-northeast-3"]
chat_tier                 = "haiku"

sagemaker_enabled = false

connector_schedules = {
  gitlab  = "rate(1 hour)"
  slack   = "rate(1 hour)"
  backlog = "rate(1 hour)"
}

deletion_protection      = false
force_destroy            = true
kms_deletion_window_days = 7

api_key_names            = ["web"] # the page's (config.json); POST /discord needs none
api_throttle_rate_limit  = 5
api_throttle_burst_limit = 10
api_quota_per_day        = 2000

# The Discord application's Public Key (docs/discord.md); unset: POST /discord answers 401.
# discord_public_key = "<64 hex characters>"

alarm_emails = [] # e.g. ["kass-dev@example.com"]
# Idle ~$95 with the NAT gateway (docs/cost.md): 150 keeps the 80 % alert for real use.
monthly_budget_usd = 150

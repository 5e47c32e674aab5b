# kass prod: OpenSearch Serverless with standby replicas, VPC in two zones, the 7B tier on a GPU
# in office hours with autoscaling up to two instances. Cost: docs/cost.md.
environment = "prod"
account_id  = "333333333333" # REPLACE with the prod account's ID (and the bucket in backend.hcl)
region      = "ap-northeast-1"

functions = {
  orchestrator       = { memory_size = 1769, timeout_seconds = 30, reserved_concurrency = 50 }
  vector_search      = { memory_size = 1024, timeout_seconds = 10, reserved_concurrency = 20 }
  document_processor = { memory_size = 1024, timeout_seconds = 120, reserved_concurrency = 10 }
  data_fetcher       = { memory_size = 512, timeout_seconds = 900, reserved_concurrency = 3 }
  discord_handler    = { memory_size = 1769, timeout_seconds = 300, reserved_concurrency = 10 }
  stream_handler     = { memory_size = 1769, timeout_seconds = 120, reserved_concurrency = 50 }
}
log_level          = "INFO"
log_retention_days = 365

vpc_enabled                     = true
vpc_availability_zones          = ["ap-northeast-1a", "ap-northeast-1c"]
vpc_interface_endpoint_services = ["bedrock-runtime", "aoss", "sagemaker.runtime", "xray"]
vpc_nat_gateway_enabled         = true # the agents' GitLab/Slack/Backlog calls and connector secrets

opensearch_engine           = "serverless"
opensearch_standby_replicas = true

bedrock_haiku_model_id    = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
bedrock_sonnet_model_id   = "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
bedrock_inference_regions = ["ap-northeast-1", "ap-northeast-3"]
chat_tier                 = "auto"

# The 7B tier: ml.g5.xlarge, weekdays 08:45-19:00 Tokyo (in service from ~09:00), up to 2.
sagemaker_enabled           = true
sagemaker_image_uri         = "763104351884.dkr.ecr.ap-northeast-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04-v2.0"
sagemaker_model_key_prefix  = "models/qwen2.5-7b-instruct/"
sagemaker_instance_type     = "ml.g5.xlarge"
sagemaker_min_capacity      = 1
sagemaker_max_capacity      = 2
sagemaker_schedule_enabled  = true
sagemaker_schedule_timezone = "Asia/Tokyo"
sagemaker_start_cron        = "cron(45 8 ? * MON-FRI *)"
sagemaker_stop_cron         = "cron(0 19 ? * MON-FRI *)"
sagemaker_autoscaling_cron  = "cron(15 9 ? * MON-FRI *)"

connector_schedules = {
  gitlab  = "rate(15 minutes)"
  slack   = "rate(30 minutes)"
  backlog = "rate(15 minutes)"
}

deletion_protection      = true
force_destroy            = false
kms_deletion_window_days = 30

api_key_names            = ["web"] # the page's (config.json); POST /discord needs none
api_throttle_rate_limit  = 20
api_throttle_burst_limit = 40
api_quota_per_day        = 20000

# The Discord application's Public Key (docs/discord.md); unset: POST /discord answers 401.
# discord_public_key = "<64 hex characters>"

alarm_emails       = ["kass-oncall@example.com"] # REPLACE with the on-call address
monthly_budget_usd = 1500

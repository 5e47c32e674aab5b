# The self-hosted 7B tier: a SageMaker real-time endpoint on one GPU instance.
#
# Two modes:
# - schedule_enabled = true (default): Terraform owns the model, the endpoint config, the
#   execution role and four EventBridge Scheduler schedules (universal targets, no code):
#   start -> sagemaker:CreateEndpoint, stop -> sagemaker:DeleteEndpoint, then (once in service)
#   application-autoscaling:RegisterScalableTarget and PutScalingPolicy. The endpoint itself is
#   NOT a Terraform resource, so applies outside office hours never start it and never drift.
# - schedule_enabled = false: Terraform owns the endpoint and its autoscaling, running 24/7.
#
# Classic real-time endpoints cannot scale to 0 instances (MinCapacity 0 is only for endpoints
# built from inference components), hence delete/create rather than scheduled scaling.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  scheduled   = var.enabled && var.schedule_enabled
  always_on   = var.enabled && !var.schedule_enabled
  autoscaling = var.max_capacity > var.min_capacity

  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  endpoint_name = "${var.name_prefix}-llm"
  variant_name  = "primary"
  endpoint_arn  = "arn:${local.partition}:sagemaker:${local.region}:${local.account}:endpoint/${local.endpoint_name}"
  resource_id   = "endpoint/${local.endpoint_name}/variant/${local.variant_name}"
  log_group     = "/aws/sagemaker/Endpoints/${local.endpoint_name}"

  # GPUs per instance size, the same for g5 and g6.
  gpus = lookup({ "12xlarge" = 4, "24xlarge" = 4, "48xlarge" = 8 }, split(".", var.instance_type)[2], 1)
  environment = merge(
    {
      HF_MODEL_ID          = "/opt/ml/model" # weights come from model_data_s3_uri, never the Hub
      SM_NUM_GPUS          = tostring(local.gpus)
      MESSAGES_API_ENABLED = "true" # /invocations speaks the OpenAI chat schema kass sends
      MAX_INPUT_TOKENS     = "6144"
      MAX_TOTAL_TOKENS     = "8192"
    },
    var.environment,
  )

  # Model artifact: s3://bucket/prefix/ (uncompressed) or s3://bucket/key.tar.gz.
  model_uri        = coalesce(var.model_data_s3_uri, "s3://unset/unset/")
  model_compressed = endswith(local.model_uri, ".tar.gz")
  model_bucket     = split("/", trimprefix(local.model_uri, "s3://"))[0]
  model_key        = trimprefix(trimprefix(local.model_uri, "s3://"), "${local.model_bucket}/")

  # ECR repository of the image, for a pull permission scoped to it.
  image            = coalesce(var.image_uri, "000000000000.dkr.ecr.unset.amazonaws.com/unset:unset")
  image_registry   = split("/", local.image)[0]
  image_account    = split(".", local.image_registry)[0]
  image_region     = split(".", local.image_registry)[3]
  image_repository = regex("^[^/]+/([^:@]+)", local.image)[0]
  image_repo_arn   = "arn:${local.partition}:ecr:${local.image_region}:${local.image_account}:repository/${local.image_repository}"

  # Model and endpoint config are immutable; a change makes new ones (create before destroy).
  revision = substr(sha1(jsonencode([local.image, local.model_uri, local.environment, var.instance_type, var.min_capacity])), 0, 8)

  scaling_target = {
    ServiceNamespace  = "sagemaker"
    ResourceId        = local.resource_id
    ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
  }
  scaling_policy_name = "${local.endpoint_name}-invocations"
  target_tracking = {
    TargetValue      = var.target_invocations_per_instance
    ScaleInCooldown  = var.scale_in_cooldown_seconds
    ScaleOutCooldown = var.scale_out_cooldown_seconds
    PredefinedMetricSpecification = {
      PredefinedMetricType = "SageMakerVariantInvocationsPerInstance"
    }
  }
}

# -------------------------------------------------------------------------------------------
# Execution role: read the artifact, pull the image, write the container logs
# -------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "execution_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  count = var.enabled ? 1 : 0

  name               = "${local.endpoint_name}-execution"
  description        = "SageMaker execution role of the kass self-hosted 7B model"
  assume_role_policy = data.aws_iam_policy_document.execution_trust.json

  lifecycle {
    precondition {
      condition     = var.image_uri != null && var.model_data_s3_uri != null
      error_message = "enabled = true needs image_uri (the TGI/LMI/vLLM image) and model_data_s3_uri (the 7B weights in S3); or set enabled = false."
    }
    precondition {
      condition     = var.max_capacity >= var.min_capacity
      error_message = "max_capacity must be at least min_capacity."
    }
  }
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "ReadModelArtifact"
    actions   = ["s3:GetObject"]
    resources = [local.model_compressed ? "arn:${local.partition}:s3:::${local.model_bucket}/${local.model_key}" : "arn:${local.partition}:s3:::${local.model_bucket}/${local.model_key}*"]
  }

  statement {
    sid       = "ListModelArtifactPrefix"
    actions   = ["s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${local.model_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.model_key}*"]
    }
  }

  dynamic "statement" {
    for_each = var.model_data_kms_key_arn == null ? [] : [var.model_data_kms_key_arn]
    content {
      sid       = "DecryptModelArtifact"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  statement {
    sid       = "PullInferenceImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [local.image_repo_arn]
  }

  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions
  }

  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.log_group}:*"]
  }

  statement {
    sid       = "ContainerMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; limited by namespace
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  count = var.enabled ? 1 : 0

  name   = "model-artifact-image-logs"
  role   = aws_iam_role.execution[0].id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_cloudwatch_log_group" "endpoint" {
  count = var.enabled ? 1 : 0

  #checkov:skip=CKV_AWS_158: encrypted with kms_key_arn when one is given (its key policy must allow logs.<region>.amazonaws.com), else with CloudWatch Logs' own encryption
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# -------------------------------------------------------------------------------------------
# Model and endpoint configuration
# -------------------------------------------------------------------------------------------
resource "aws_sagemaker_model" "this" {
  count = var.enabled ? 1 : 0

  name                     = "${local.endpoint_name}-${local.revision}"
  execution_role_arn       = aws_iam_role.execution[0].arn
  enable_network_isolation = true # weights come from S3; the container needs no network

  primary_container {
    image          = local.image
    environment    = local.environment
    model_data_url = local.model_compressed ? local.model_uri : null

    dynamic "model_data_source" {
      for_each = local.model_compressed ? [] : [1]
      content {
        s3_data_source {
          s3_uri           = local.model_uri
          s3_data_type     = "S3Prefix"
          compression_type = "None"
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.execution]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  count = var.enabled ? 1 : 0

  #checkov:skip=CKV_AWS_98: ml.g5/ml.g6 have local NVMe instance storage, encrypted by the instance's hardware module; CreateEndpointConfig fails when a KmsKeyId is given for such instance types
  name = "${local.endpoint_name}-${local.revision}"

  production_variants {
    variant_name                                      = local.variant_name
    model_name                                        = aws_sagemaker_model.this[0].name
    instance_type                                     = var.instance_type
    initial_instance_count                            = var.min_capacity
    container_startup_health_check_timeout_in_seconds = 900  # loading 7B weights onto the GPU
    model_data_download_timeout_in_seconds            = 1200 # ~15 GB from S3
  }

  lifecycle {
    create_before_destroy = true
  }
}

# -------------------------------------------------------------------------------------------
# Always on (schedule_enabled = false): Terraform owns the endpoint and its autoscaling
# -------------------------------------------------------------------------------------------
resource "aws_sagemaker_endpoint" "this" {
  count = local.always_on ? 1 : 0

  name                 = local.endpoint_name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this[0].name

  depends_on = [aws_cloudwatch_log_group.endpoint]
}

resource "aws_appautoscaling_target" "this" {
  count = local.always_on && local.autoscaling ? 1 : 0

  service_namespace  = local.scaling_target.ServiceNamespace
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this[0].name}/variant/${local.variant_name}"
  scalable_dimension = local.scaling_target.ScalableDimension
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "invocations" {
  count = local.always_on && local.autoscaling ? 1 : 0

  name               = local.scaling_policy_name
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_invocations_per_instance
    scale_in_cooldown  = var.scale_in_cooldown_seconds
    scale_out_cooldown = var.scale_out_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}

# -------------------------------------------------------------------------------------------
# Office hours (schedule_enabled = true): EventBridge Scheduler creates and deletes the endpoint
# -------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.scheduled ? 1 : 0

  name               = "${local.endpoint_name}-scheduler"
  description        = "EventBridge Scheduler: start and stop the kass 7B endpoint in office hours"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid     = "StartEndpoint"
    actions = ["sagemaker:CreateEndpoint"]
    resources = [
      local.endpoint_arn,
      "arn:${local.partition}:sagemaker:${local.region}:${local.account}:endpoint-config/${local.endpoint_name}-*",
    ]
  }

  statement {
    sid       = "StopEndpoint"
    actions   = ["sagemaker:DeleteEndpoint"]
    resources = [local.endpoint_arn]
  }

  # Registering a SageMaker variant for autoscaling checks the caller's rights on the endpoint.
  statement {
    sid       = "AutoscaleEndpointVariant"
    actions   = ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"]
    resources = [local.endpoint_arn]
  }

  statement {
    sid       = "DescribeEndpointConfig"
    actions   = ["sagemaker:DescribeEndpointConfig"]
    resources = ["arn:${local.partition}:sagemaker:${local.region}:${local.account}:endpoint-config/${local.endpoint_name}-*"]
  }

  # DeleteEndpoint deregisters the variant's scalable target with the caller's rights.
  statement {
    sid = "ManageScalableTarget"
    actions = [
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:RegisterScalableTarget",
    ]
    resources = ["arn:${local.partition}:application-autoscaling:${local.region}:${local.account}:scalable-target/*"]
    condition {
      test     = "StringEquals"
      variable = "application-autoscaling:service-namespace"
      values   = ["sagemaker"]
    }
  }

  statement {
    sid       = "TargetTrackingAlarms"
    actions   = ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:TargetTracking-${local.resource_id}-*"]
  }

  # Schedules encrypted with kms_key_arn: Scheduler decrypts their input with this role.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "DecryptScheduleInput"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "AutoscalingServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["sagemaker.application-autoscaling.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.scheduled ? 1 : 0

  name   = "start-stop-endpoint"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "start" {
  count = local.scheduled ? 1 : 0

  name                         = "${local.endpoint_name}-start"
  description                  = "Create the kass 7B endpoint for office hours"
  schedule_expression          = var.start_cron
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:sagemaker:createEndpoint"
    role_arn = aws_iam_role.scheduler[0].arn
    input = jsonencode({
      EndpointName       = local.endpoint_name
      EndpointConfigName = aws_sagemaker_endpoint_configuration.this[0].name
    })

    retry_policy {
      maximum_event_age_in_seconds = 1800
      maximum_retry_attempts       = 5
    }
  }

  depends_on = [aws_iam_role_policy.scheduler, aws_cloudwatch_log_group.endpoint]
}

resource "aws_scheduler_schedule" "stop" {
  count = local.scheduled ? 1 : 0

  name                         = "${local.endpoint_name}-stop"
  description                  = "Delete the kass 7B endpoint after office hours (model and config are kept)"
  schedule_expression          = var.stop_cron
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:sagemaker:deleteEndpoint"
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode({ EndpointName = local.endpoint_name })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 10
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

resource "aws_scheduler_schedule" "register_autoscaling" {
  count = local.scheduled && local.autoscaling ? 1 : 0

  name                         = "${local.endpoint_name}-autoscaling-target"
  description                  = "Register the running kass 7B endpoint for autoscaling (retried until it is in service)"
  schedule_expression          = var.autoscaling_cron
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:applicationautoscaling:registerScalableTarget"
    role_arn = aws_iam_role.scheduler[0].arn
    input = jsonencode(merge(local.scaling_target, {
      MinCapacity = var.min_capacity
      MaxCapacity = var.max_capacity
    }))

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 20
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

resource "aws_scheduler_schedule" "autoscaling_policy" {
  count = local.scheduled && local.autoscaling ? 1 : 0

  name                         = "${local.endpoint_name}-autoscaling-policy"
  description                  = "Attach the target-tracking policy to the kass 7B endpoint (retried until the target exists)"
  schedule_expression          = var.autoscaling_cron
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:applicationautoscaling:putScalingPolicy"
    role_arn = aws_iam_role.scheduler[0].arn
    input = jsonencode(merge(local.scaling_target, {
      PolicyName                               = local.scaling_policy_name
      PolicyType                               = "TargetTrackingScaling"
      TargetTrackingScalingPolicyConfiguration = local.target_tracking
    }))

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 20
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

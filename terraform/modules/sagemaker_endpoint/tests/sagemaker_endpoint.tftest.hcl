# Plan-level checks with a mocked AWS provider (no credentials, no network).
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/kass-dev-llm-mock" }
  }
}

variables {
  name_prefix       = "kass-dev"
  image_uri         = "763104351884.dkr.ecr.ap-northeast-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04"
  model_data_s3_uri = "s3://kass-dev-models/qwen2.5-7b-instruct/"
}

run "scheduled_by_default_and_scoped" {
  command = plan

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type == "ml.g5.xlarge"
    error_message = "The default instance type must be ml.g5.xlarge."
  }

  assert {
    condition     = length(aws_sagemaker_endpoint.this) == 0 && length(aws_scheduler_schedule.start) == 1 && length(aws_scheduler_schedule.stop) == 1
    error_message = "With the schedule on, the scheduler (not Terraform) owns the endpoint."
  }

  assert {
    condition     = aws_scheduler_schedule.start[0].schedule_expression_timezone == "Asia/Tokyo" && aws_scheduler_schedule.stop[0].schedule_expression == "cron(0 19 ? * MON-FRI *)"
    error_message = "Default office hours: Asia/Tokyo, stop 19:00 on weekdays."
  }

  assert {
    condition     = endswith(aws_scheduler_schedule.start[0].target[0].arn, "aws-sdk:sagemaker:createEndpoint") && endswith(aws_scheduler_schedule.stop[0].target[0].arn, "aws-sdk:sagemaker:deleteEndpoint")
    error_message = "Start creates, stop deletes the endpoint."
  }

  assert {
    condition     = jsondecode(aws_scheduler_schedule.start[0].target[0].input).EndpointConfigName == aws_sagemaker_endpoint_configuration.this[0].name
    error_message = "The start schedule must create the endpoint from the current endpoint config."
  }

  assert {
    condition     = aws_sagemaker_model.this[0].enable_network_isolation
    error_message = "The model container must run with network isolation."
  }

  assert {
    condition     = aws_sagemaker_model.this[0].primary_container[0].environment["MESSAGES_API_ENABLED"] == "true" && aws_sagemaker_model.this[0].primary_container[0].environment["HF_MODEL_ID"] == "/opt/ml/model"
    error_message = "TGI must serve the Messages API from the S3 weights."
  }

  assert {
    condition     = aws_sagemaker_model.this[0].primary_container[0].model_data_source[0].s3_data_source[0].compression_type == "None"
    error_message = "A folder URI is loaded uncompressed."
  }

  assert {
    condition = alltrue([
      for name in [aws_iam_role.execution[0].name, aws_iam_role.scheduler[0].name, aws_sagemaker_model.this[0].name, aws_sagemaker_endpoint_configuration.this[0].name, aws_scheduler_schedule.start[0].name, aws_cloudwatch_log_group.endpoint[0].name] :
      strcontains(name, "kass-dev-")
    ])
    error_message = "Every name must carry the environment prefix."
  }

  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.execution, data.aws_iam_policy_document.scheduler] : [
        for s in doc.statement : [for a in s.actions : !strcontains(a, "*")]
      ]
    ]))
    error_message = "No wildcard actions in the execution or scheduler policies."
  }

  assert {
    condition     = !contains([for st in data.aws_iam_policy_document.scheduler.statement : st.sid], "DecryptScheduleInput")
    error_message = "Without kms_key_arn the scheduler role gets no KMS permission."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.execution.statement : alltrue([for r in s.resources : r != "*"]) if !contains(["EcrLogin", "ContainerMetrics"], s.sid)
    ])
    error_message = "Only ecr:GetAuthorizationToken and cloudwatch:PutMetricData (no resource-level support) may use Resource *."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.execution.statement : s.resources if s.sid == "ReadModelArtifact"]) == toset(["arn:aws:s3:::kass-dev-models/qwen2.5-7b-instruct/*"])
    error_message = "The execution role reads only the artifact prefix."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.execution.statement : s.resources if s.sid == "PullInferenceImage"]) == toset(["arn:aws:ecr:ap-northeast-1:763104351884:repository/huggingface-pytorch-tgi-inference"])
    error_message = "ECR pull is scoped to the image's repository."
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].kms_key_arn == null
    error_message = "No KmsKeyId on g5/g6 (local NVMe storage): CreateEndpointConfig would fail."
  }

  assert {
    condition     = output.endpoint_name == "kass-dev-llm" && output.invoke_policy_statements[0].resources[0] == "arn:aws:sagemaker:ap-northeast-1:123456789012:endpoint/kass-dev-llm"
    error_message = "The invoke statement must name the endpoint ARN."
  }
}

run "always_on_owns_endpoint_and_autoscaling" {
  command = plan

  variables {
    schedule_enabled = false
    instance_type    = "ml.g6.12xlarge"
    max_capacity     = 3
  }

  assert {
    condition     = length(aws_sagemaker_endpoint.this) == 1 && length(aws_scheduler_schedule.start) == 0 && length(aws_iam_role.scheduler) == 0
    error_message = "Always on: Terraform owns the endpoint, no schedules."
  }

  assert {
    condition     = aws_appautoscaling_target.this[0].min_capacity == 1 && aws_appautoscaling_target.this[0].max_capacity == 3
    error_message = "Autoscaling bounds come from min_capacity / max_capacity."
  }

  assert {
    condition     = aws_appautoscaling_policy.invocations[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    error_message = "Target tracking on invocations per instance."
  }

  assert {
    condition     = aws_sagemaker_model.this[0].primary_container[0].environment["SM_NUM_GPUS"] == "4"
    error_message = "ml.g6.12xlarge has 4 GPUs."
  }
}

run "disabled_creates_nothing" {
  command = plan

  variables {
    enabled           = false
    image_uri         = null
    model_data_s3_uri = null
  }

  assert {
    condition     = length(aws_sagemaker_model.this) == 0 && length(aws_iam_role.execution) == 0 && length(aws_scheduler_schedule.start) == 0
    error_message = "enabled = false must create nothing."
  }

  assert {
    condition     = output.endpoint_name == null && length(output.invoke_policy_statements) == 0 && length(output.environment_variables) == 0
    error_message = "enabled = false: null name, no statements, no environment."
  }
}

run "rejects_a_cpu_instance_type" {
  command = plan

  variables {
    instance_type = "ml.m5.xlarge"
  }

  expect_failures = [var.instance_type]
}

run "rejects_an_older_gpu_family" {
  command = plan

  variables {
    instance_type = "ml.g4dn.xlarge"
  }

  expect_failures = [var.instance_type]
}

run "rejects_scaling_to_zero" {
  command = plan

  variables {
    min_capacity = 0
  }

  expect_failures = [var.min_capacity]
}

run "rejects_max_below_min" {
  command = plan

  variables {
    min_capacity = 2
    max_capacity = 1
  }

  expect_failures = [aws_iam_role.execution]
}

run "rejects_enabled_without_a_model" {
  command = plan

  variables {
    model_data_s3_uri = null
  }

  expect_failures = [aws_iam_role.execution]
}

run "rejects_a_non_ecr_image" {
  command = plan

  variables {
    image_uri = "ghcr.io/huggingface/text-generation-inference:3.0"
  }

  expect_failures = [var.image_uri]
}

run "rejects_a_rate_expression_for_office_hours" {
  command = plan

  variables {
    stop_cron = "rate(10 hours)"
  }

  expect_failures = [var.stop_cron]
}

run "rejects_an_unknown_environment" {
  command = plan

  variables {
    name_prefix = "kass-test"
  }

  expect_failures = [var.name_prefix]
}

run "scheduler_role_decrypts_the_schedules_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = anytrue([
      for st in data.aws_iam_policy_document.scheduler.statement :
      st.sid == "DecryptScheduleInput" && toset(st.actions) == toset(["kms:Decrypt"]) && toset(st.resources) == toset([var.kms_key_arn])
    ])
    error_message = "The scheduler role may decrypt the schedules' input with kms_key_arn, that key only."
  }
}

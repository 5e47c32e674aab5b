# The customer-managed key of one environment: a symmetric key with yearly rotation whose policy
# lets the account's IAM policies decide who uses it (the lambda module grants each function
# kms:Decrypt/GenerateDataKey on it) and lets exactly the AWS services that encrypt on kass's
# behalf use it: CloudWatch Logs for log groups, EventBridge for the encrypted queues, CloudWatch
# alarms and Budgets for the alarm topic. DynamoDB, S3, SQS (Lambda), OpenSearch and Lambda's
# environment variables use the key with the caller's own permissions (grants), so they need no
# statement here.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111: a key policy: Resource "*" is the key itself; the principals are the account root (IAM policies decide) and AWS services bound to this account
  #checkov:skip=CKV_AWS_356: a key policy: Resource "*" is the key itself, not every resource
  #checkov:skip=CKV_AWS_109: a key policy must let the account administer its key (PutKeyPolicy, CreateGrant); no other principal gets them
  statement {
    sid = "AccountAdministersAndUsesTheKey"
    # Explicit actions, no kms:*; IAM policies of the account decide who may use them.
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
      "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
      "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies",
      "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant",
      "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  dynamic "statement" {
    for_each = var.allow_cloudwatch_logs ? [1] : []
    content {
      sid       = "CloudWatchLogsEncryptLogGroups"
      actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
      resources = ["*"] # in a key policy, "*" is this key
      principals {
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.allow_eventbridge_rules ? [1] : []
    content {
      sid       = "EventBridgeDeliversToEncryptedQueues"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["*"] # in a key policy, "*" is this key
      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/${var.name_prefix}-*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.allow_alarm_notifications ? [1] : []
    content {
      sid       = "AlarmAndBudgetServicesPublishEncrypted"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["*"] # in a key policy, "*" is this key
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "kass ${var.name_prefix}: data, queues, logs, alarms"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}

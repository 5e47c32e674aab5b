# The six state tables of kass. Key schemas, the by-owner index and the TTL attributes mirror
# lambda_functions/kass/adapters/aws/dynamodb.py exactly (tests/unit/test_terraform_modules.py
# fails when they drift). All on-demand, SSE with a customer key, point-in-time recovery on
# except for the WebSocket connections (rows that die with their connection).

locals {
  table_names = {
    conversations = "${var.name_prefix}-conversations"
    cache         = "${var.name_prefix}-cache"
    checkpoints   = "${var.name_prefix}-checkpoints"
    idempotency   = "${var.name_prefix}-idempotency"
    actions       = "${var.name_prefix}-actions"
    connections   = "${var.name_prefix}-connections"
  }
}

# Messages (`sk` = "msg#<id>") and one sparse `meta` item per conversation that alone carries
# `owner_id`, so the by-owner index lists conversations, not messages.
resource "aws_dynamodb_table" "conversations" {
  name                        = local.table_names.conversations
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "conversation_id"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "conversation_id"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "owner_id"
    type = "S"
  }

  attribute {
    name = "updated_at"
    type = "S"
  }

  global_secondary_index {
    name               = "by-owner"
    hash_key           = "owner_id"
    range_key          = "updated_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["title", "expires_at"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Response cache: one item per cache key, expiring after KASS_CHAT_CACHE_TTL_SECONDS.
resource "aws_dynamodb_table" "cache" {
  name                        = local.table_names.cache
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "cache_key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "cache_key"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Connector checkpoints and the index-version counter: never expire.
resource "aws_dynamodb_table" "checkpoints" {
  name                        = local.table_names.checkpoints
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "name"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "name"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Powertools idempotency records (DynamoDBPersistenceLayer defaults: key `id`, TTL `expiration`).
resource "aws_dynamodb_table" "idempotency" {
  name                        = local.table_names.idempotency
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# The agents' proposed actions (`pk` = "action#<id>") and audit entries (`pk` = "audit#<user>"),
# kass.adapters.aws.actions; both expire through `expires_at`.
resource "aws_dynamodb_table" "actions" {
  name                        = local.table_names.actions
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Open WebSocket connections of the streaming API (stream_handler): one item per connection,
# written on $connect, deleted on $disconnect; `expires_at` drops the rows of connections whose
# $disconnect never ran (API Gateway closes a connection after 2 hours at most).
resource "aws_dynamodb_table" "connections" {
  #checkov:skip=CKV_AWS_28:No point-in-time recovery: a row lives as long as its WebSocket connection (2 hours at most), and a restored row would name a connection that is gone.
  name                        = local.table_names.connections
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "connection_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "connection_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

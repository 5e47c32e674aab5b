output "table_names" {
  description = "Table name per kind: conversations, cache, checkpoints, idempotency, actions, connections."
  value = {
    conversations = aws_dynamodb_table.conversations.name
    cache         = aws_dynamodb_table.cache.name
    checkpoints   = aws_dynamodb_table.checkpoints.name
    idempotency   = aws_dynamodb_table.idempotency.name
    actions       = aws_dynamodb_table.actions.name
    connections   = aws_dynamodb_table.connections.name
  }
}

output "table_arns" {
  description = "Table ARN per kind: conversations, cache, checkpoints, idempotency, actions, connections."
  value = {
    conversations = aws_dynamodb_table.conversations.arn
    cache         = aws_dynamodb_table.cache.arn
    checkpoints   = aws_dynamodb_table.checkpoints.arn
    idempotency   = aws_dynamodb_table.idempotency.arn
    actions       = aws_dynamodb_table.actions.arn
    connections   = aws_dynamodb_table.connections.arn
  }
}

output "conversations_owner_index_arn" {
  description = "ARN of the conversations table's by-owner index (dynamodb:Query on it lists a user's conversations)."
  value       = "${aws_dynamodb_table.conversations.arn}/index/by-owner"
}

output "environment_variables" {
  description = "The functions' table settings (kass.settings.AwsSettings): KASS_AWS_<KIND>_TABLE = name."
  value = {
    KASS_AWS_CONVERSATIONS_TABLE = aws_dynamodb_table.conversations.name
    KASS_AWS_CACHE_TABLE         = aws_dynamodb_table.cache.name
    KASS_AWS_CHECKPOINTS_TABLE   = aws_dynamodb_table.checkpoints.name
    KASS_AWS_IDEMPOTENCY_TABLE   = aws_dynamodb_table.idempotency.name
    KASS_AWS_ACTIONS_TABLE       = aws_dynamodb_table.actions.name
    KASS_AWS_CONNECTIONS_TABLE   = aws_dynamodb_table.connections.name
  }
}

output "engine" {
  description = "`serverless` or `domain`, as chosen."
  value       = var.engine
}

output "endpoint" {
  description = "HTTPS endpoint WITH the scheme (https://...), for KASS_AWS_OPENSEARCH_ENDPOINT (which also accepts a bare host)."
  value       = local.serverless ? aws_opensearchserverless_collection.this[0].collection_endpoint : "https://${aws_opensearch_domain.this[0].endpoint}"
}

output "service" {
  description = "SigV4 signing name for KASS_AWS_OPENSEARCH_SERVICE: `aoss` (Serverless) or `es` (domain)."
  value       = local.serverless ? "aoss" : "es"
}

output "index_name" {
  description = "The index the data access policy covers, for KASS_AWS_OPENSEARCH_INDEX."
  value       = var.index_name
}

output "arn" {
  description = "ARN of the collection or of the domain."
  value       = local.serverless ? aws_opensearchserverless_collection.this[0].arn : aws_opensearch_domain.this[0].arn
}

output "name" {
  description = "Collection or domain name."
  value       = local.serverless ? aws_opensearchserverless_collection.this[0].name : aws_opensearch_domain.this[0].domain_name
}

output "collection_id" {
  description = "Serverless collection ID (null for a domain); the CloudWatch AWS/AOSS metrics use it."
  value       = local.serverless ? aws_opensearchserverless_collection.this[0].id : null
}

output "policy_statements" {
  description = "Statements for the lambda module's policy_statements ({sid, actions, resources}) of the functions that use the index: aoss:APIAccessAll on the collection, or es:ESHttpGet/Head/Post/Put on the domain."
  value = local.serverless ? [
    {
      sid       = "OpenSearchServerlessData"
      actions   = ["aoss:APIAccessAll"]
      resources = [aws_opensearchserverless_collection.this[0].arn]
    },
    ] : [
    {
      sid       = "OpenSearchDomainHttp"
      actions   = local.domain_http_actions
      resources = [aws_opensearch_domain.this[0].arn, "${aws_opensearch_domain.this[0].arn}/*"]
    },
  ]
}

output "environment_variables" {
  description = "The functions' index settings (kass.settings.AwsSettings): KASS_AWS_OPENSEARCH_ENDPOINT, _SERVICE and _INDEX, ready to merge into their environment."
  value = {
    KASS_AWS_OPENSEARCH_ENDPOINT = local.serverless ? aws_opensearchserverless_collection.this[0].collection_endpoint : "https://${aws_opensearch_domain.this[0].endpoint}"
    KASS_AWS_OPENSEARCH_SERVICE  = local.serverless ? "aoss" : "es"
    KASS_AWS_OPENSEARCH_INDEX    = var.index_name
  }
}

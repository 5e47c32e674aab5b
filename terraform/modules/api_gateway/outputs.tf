output "rest_api_id" {
  description = "REST API ID."
  value       = aws_api_gateway_rest_api.this.id
}

output "rest_api_name" {
  description = "REST API name (the ApiName dimension of the AWS/ApiGateway metrics)."
  value       = aws_api_gateway_rest_api.this.name
}

output "execution_arn" {
  description = "REST API execution ARN (for further Lambda permissions)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "stage_name" {
  description = "Stage name of the REST (and WebSocket) API."
  value       = aws_api_gateway_stage.this.stage_name
}

output "invoke_url" {
  description = "Base URL of the REST API, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1 (append /chat, /search ...)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "origin" {
  description = "Origin of the REST API (scheme + host), for the web page's Content-Security-Policy connect-src."
  value       = "https://${aws_api_gateway_rest_api.this.id}.execute-api.${local.region}.amazonaws.com"
}

output "api_key_ids" {
  description = "API key IDs by name (the values are in api_key_values)."
  value       = { for name, key in aws_api_gateway_api_key.this : name => key.id }
}

output "api_key_values" {
  description = "API key values by name (sensitive): send as the x-api-key header."
  value       = { for name, key in aws_api_gateway_api_key.this : name => key.value }
  sensitive   = true
}

output "usage_plan_id" {
  description = "Usage plan of the keys (add keys created elsewhere to it)."
  value       = aws_api_gateway_usage_plan.this.id
}

output "access_log_group_name" {
  description = "CloudWatch log group of the REST access logs (JSON, one line per request, with requestId)."
  value       = aws_cloudwatch_log_group.access.name
}

output "websocket_url" {
  description = "wss:// URL of the WebSocket stage, or null without a streaming function."
  value       = local.websocket ? aws_apigatewayv2_stage.websocket[0].invoke_url : null
}

output "websocket_api_id" {
  description = "WebSocket API ID, or null."
  value       = local.websocket ? aws_apigatewayv2_api.websocket[0].id : null
}

output "websocket_api_name" {
  description = "WebSocket API name (known at plan, unlike its ID: the monitoring module keys its alarms on it), or null."
  value       = local.websocket ? aws_apigatewayv2_api.websocket[0].name : null
}

output "websocket_origin" {
  description = "Origin of the WebSocket API (wss://host), for the web page's connect-src; null without a streaming function."
  value       = local.websocket ? "wss://${aws_apigatewayv2_api.websocket[0].id}.execute-api.${local.region}.amazonaws.com" : null
}

# The public API: a REST API (API keys, usage plan, optional Cognito JWTs) whose routes are
# Lambda proxy integrations of kass.api.routes.HTTP_ROUTES, and, when a streaming function is
# given, a WebSocket API ($connect, $disconnect, $default) in front of it.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  routes = { for r in var.routes : "${r.method} ${r.path}" => r }
  # Routes behind the Cognito authorizer (when there is one): keyless routes authenticate in
  # their function, and jwt_exempt_paths keep API-key-only access.
  jwt_routes = {
    for k, r in local.routes : k => r if local.jwt && r.api_key_required && !contains(var.jwt_exempt_paths, r.path)
  }

  # API Gateway builds paths from one resource per segment, each the child of the previous
  # one. A resource cannot reference its own for_each siblings, so there is one resource
  # block per depth (paths are validated to at most 4 segments).
  paths    = distinct([for r in var.routes : r.path])
  segments = { for p in local.paths : p => split("/", trimprefix(p, "/")) }
  prefixes = distinct(flatten([
    for p, segs in local.segments : [for i in range(1, length(segs) + 1) : join("/", slice(segs, 0, i))]
  ]))
  level = {
    for depth in [1, 2, 3, 4] : depth => {
      for prefix in local.prefixes : prefix => {
        parent    = join("/", slice(split("/", prefix), 0, depth - 1))
        path_part = split("/", prefix)[depth - 1]
      } if length(split("/", prefix)) == depth
    }
  }
  resource_ids = merge(
    { for k, r in aws_api_gateway_resource.depth1 : "/${k}" => r.id },
    { for k, r in aws_api_gateway_resource.depth2 : "/${k}" => r.id },
    { for k, r in aws_api_gateway_resource.depth3 : "/${k}" => r.id },
    { for k, r in aws_api_gateway_resource.depth4 : "/${k}" => r.id },
  )

  jwt  = length(var.cognito_user_pool_arns) > 0
  cors = var.cors_allow_origin != null
  cors_methods = {
    for p in local.paths : p => join(",", concat(sort([for r in var.routes : r.method if r.path == p]), ["OPTIONS"]))
  }
  cors_headers = {
    "Access-Control-Allow-Headers" = "'Content-Type,Authorization,X-Api-Key,X-Amz-Date,X-Amz-Security-Token'"
    "Access-Control-Allow-Origin"  = "'${coalesce(var.cors_allow_origin, "none")}'"
  }

  websocket        = var.websocket_function != null
  websocket_routes = local.websocket ? toset(["$connect", "$disconnect", "$default"]) : toset([])
  # The key travels as ?api_key= (browsers cannot set headers on a WebSocket): the streaming
  # function, as $connect's REQUEST authorizer, hands it back as usageIdentifierKey.
  websocket_authorizer = local.websocket && var.websocket_api_key_required

  # One JSON object per request; requestId joins it to the function's logs (correlation id).
  access_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    httpMethod         = "$context.httpMethod"
    resourcePath       = "$context.resourcePath"
    path               = "$context.path"
    status             = "$context.status"
    protocol           = "$context.protocol"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationLatency = "$context.integrationLatency"
    integrationStatus  = "$context.integration.status"
    integrationError   = "$context.integration.error"
    errorMessage       = "$context.error.message"
    sourceIp           = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    apiKeyId           = "$context.identity.apiKeyId"
    authorizerError    = "$context.authorizer.error"
    xrayTraceId        = "$context.xrayTraceId"
  })
  websocket_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    eventType          = "$context.eventType"
    routeKey           = "$context.routeKey"
    connectionId       = "$context.connectionId"
    status             = "$context.status"
    integrationLatency = "$context.integrationLatency"
    integrationError   = "$context.integration.error"
    errorMessage       = "$context.error.message"
    sourceIp           = "$context.identity.sourceIp"
    apiKeyId           = "$context.identity.apiKeyId"
    authorizerError    = "$context.authorizer.error"
  })
}

# -------------------------------------------------------------------------------------------
# REST API and its resource tree
# -------------------------------------------------------------------------------------------
resource "aws_api_gateway_rest_api" "this" {
  name           = "${var.name_prefix}-api"
  description    = "kass REST API (chat, conversations, search)"
  api_key_source = "HEADER"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_resource" "depth1" {
  for_each = local.level[1]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth2" {
  for_each = local.level[2]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth1[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth3" {
  for_each = local.level[3]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth2[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "depth4" {
  for_each = local.level[4]

  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.depth3[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_request_validator" "params" {
  name                        = "${var.name_prefix}-params"
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  validate_request_parameters = true
  validate_request_body       = false # bodies are validated by the functions (pydantic, 422)
}

resource "aws_api_gateway_authorizer" "cognito" {
  count = local.jwt ? 1 : 0

  name            = "${var.name_prefix}-cognito"
  rest_api_id     = aws_api_gateway_rest_api.this.id
  type            = "COGNITO_USER_POOLS"
  provider_arns   = var.cognito_user_pool_arns
  identity_source = "method.request.header.Authorization"
}

# -------------------------------------------------------------------------------------------
# Routes: Lambda proxy integrations
# -------------------------------------------------------------------------------------------
resource "aws_api_gateway_method" "route" {
  for_each = local.routes

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = local.resource_ids[each.value.path]
  http_method          = each.value.method
  api_key_required     = each.value.api_key_required
  authorization        = contains(keys(local.jwt_routes), each.key) ? "COGNITO_USER_POOLS" : "NONE"
  authorizer_id        = contains(keys(local.jwt_routes), each.key) ? aws_api_gateway_authorizer.cognito[0].id : null
  request_validator_id = aws_api_gateway_request_validator.params.id
  request_parameters = {
    for name in flatten(regexall("\\{([A-Za-z0-9_]+)\\}", each.value.path)) : "method.request.path.${name}" => true
  }
}

resource "aws_api_gateway_integration" "route" {
  for_each = local.routes

  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_method.route[each.key].resource_id
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = each.value.invoke_arn
}

resource "aws_lambda_permission" "route" {
  for_each = local.routes

  statement_id  = "apigw-${lower(each.value.method)}-${substr(sha1(each.value.path), 0, 10)}"
  action        = "lambda:InvokeFunction"
  function_name = each.value.function_name
  principal     = "apigateway.amazonaws.com"
  # This API, this stage, this method and path only ({param} segments become *).
  source_arn = "${aws_api_gateway_rest_api.this.execution_arn}/${var.stage_name}/${each.value.method}${replace(each.value.path, "/\\{[A-Za-z0-9_]+\\}/", "*")}"
}

# -------------------------------------------------------------------------------------------
# CORS for the web page (preflight answered by API Gateway itself)
# -------------------------------------------------------------------------------------------
resource "aws_api_gateway_method" "cors" {
  for_each = local.cors ? toset(local.paths) : toset([])

  #checkov:skip=CKV2_AWS_53: a MOCK preflight has no request to validate
  rest_api_id      = aws_api_gateway_rest_api.this.id
  resource_id      = local.resource_ids[each.key]
  http_method      = "OPTIONS"
  authorization    = "NONE" # browsers send preflights without credentials or API key
  api_key_required = false
}

resource "aws_api_gateway_integration" "cors" {
  for_each = aws_api_gateway_method.cors

  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = each.value.resource_id
  http_method       = each.value.http_method
  type              = "MOCK"
  request_templates = { "application/json" = jsonencode({ statusCode = 200 }) }
}

resource "aws_api_gateway_method_response" "cors" {
  for_each = aws_api_gateway_method.cors

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = each.value.resource_id
  http_method = each.value.http_method
  status_code = "200"
  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = true
    "method.response.header.Access-Control-Allow-Methods" = true
    "method.response.header.Access-Control-Allow-Origin"  = true
    "method.response.header.Access-Control-Max-Age"       = true
  }
}

resource "aws_api_gateway_integration_response" "cors" {
  for_each = aws_api_gateway_method.cors

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = each.value.resource_id
  http_method = each.value.http_method
  status_code = aws_api_gateway_method_response.cors[each.key].status_code
  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = local.cors_headers["Access-Control-Allow-Headers"]
    "method.response.header.Access-Control-Allow-Methods" = "'${local.cors_methods[each.key]}'"
    "method.response.header.Access-Control-Allow-Origin"  = local.cors_headers["Access-Control-Allow-Origin"]
    "method.response.header.Access-Control-Max-Age"       = "'600'"
  }

  depends_on = [aws_api_gateway_integration.cors]
}

# API Gateway's own errors (missing key 403, throttling 429, ...) must be readable by the page.
resource "aws_api_gateway_gateway_response" "cors" {
  for_each = local.cors ? toset(["DEFAULT_4XX", "DEFAULT_5XX"]) : toset([])

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  response_parameters = {
    "gatewayresponse.header.Access-Control-Allow-Origin"  = local.cors_headers["Access-Control-Allow-Origin"]
    "gatewayresponse.header.Access-Control-Allow-Headers" = local.cors_headers["Access-Control-Allow-Headers"]
  }
}

# -------------------------------------------------------------------------------------------
# Deployment and stage
# -------------------------------------------------------------------------------------------
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "kass routes ${substr(sha1(jsonencode(var.routes)), 0, 12)}"

  # Redeploy whenever the route configuration (or what API Gateway built from it) changes.
  triggers = {
    redeployment = sha1(jsonencode([
      var.routes,
      var.cognito_user_pool_arns,
      var.jwt_exempt_paths,
      var.cors_allow_origin,
      local.resource_ids,
      [for k, m in aws_api_gateway_method.route : [k, m.id, m.authorization, m.api_key_required]],
      [for k, i in aws_api_gateway_integration.route : [k, i.id, i.uri]],
      [for k, i in aws_api_gateway_integration_response.cors : [k, i.id]],
      [for k, g in aws_api_gateway_gateway_response.cors : [k, g.id]],
    ]))
  }

  depends_on = [
    aws_api_gateway_integration.route,
    aws_api_gateway_integration_response.cors,
    aws_api_gateway_gateway_response.cors,
  ]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158: encrypted with log_kms_key_arn when one is given, else with CloudWatch Logs' own encryption
  name              = "/aws/apigateway/${var.name_prefix}-api/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# API Gateway writes execution logs to this fixed name; created here to bound its retention.
resource "aws_cloudwatch_log_group" "execution" {
  count = var.execution_logging_level == "OFF" ? 0 : 1

  #checkov:skip=CKV_AWS_158: encrypted with log_kms_key_arn when one is given, else with CloudWatch Logs' own encryption
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV_AWS_120: response caching is off on purpose: chat answers are POSTs, per caller, and cached by the orchestrator with the index version in the key
  #checkov:skip=CKV2_AWS_51: clients are browsers, a Discord bot and CI, authenticated by API keys (and Cognito JWTs); no mutual TLS client certificates
  #checkov:skip=CKV2_AWS_29: WAF is optional (waf_web_acl_arn); API keys, usage-plan quotas and stage throttling bound abuse
  #checkov:skip=CKV2_AWS_77: no WAF by default (see CKV2_AWS_29); the Log4j rule set belongs to the web ACL passed in waf_web_acl_arn, and the backends are Python
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  description          = "kass ${var.name_prefix}"
  xray_tracing_enabled = var.xray_tracing_enabled

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format          = local.access_log_format
  }

  depends_on = [aws_api_gateway_account.this, aws_cloudwatch_log_group.execution]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225: see CKV_AWS_120 on the stage: no response caching
  #checkov:skip=CKV_AWS_308: no response caching, so nothing to encrypt
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false # never log request/response bodies (questions, answers)
    caching_enabled        = false
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = var.waf_web_acl_arn
}

# -------------------------------------------------------------------------------------------
# API keys and usage plan
# -------------------------------------------------------------------------------------------
resource "aws_api_gateway_usage_plan" "this" {
  name        = "${var.name_prefix}-clients"
  description = "kass clients: throttling and quota per API key"

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  dynamic "api_stages" {
    for_each = local.websocket && var.websocket_api_key_required ? [1] : []
    content {
      api_id = aws_apigatewayv2_api.websocket[0].id
      stage  = aws_apigatewayv2_stage.websocket[0].name
    }
  }

  throttle_settings {
    rate_limit  = var.throttle_rate_limit
    burst_limit = var.throttle_burst_limit
  }

  quota_settings {
    limit  = var.quota_limit
    period = var.quota_period
  }
}

resource "aws_api_gateway_api_key" "this" {
  for_each = toset(var.api_key_names)

  name        = "${var.name_prefix}-${each.key}"
  description = "kass API key: ${each.key}"
  enabled     = true
}

resource "aws_api_gateway_usage_plan_key" "this" {
  for_each = aws_api_gateway_api_key.this

  key_id        = each.value.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}

# -------------------------------------------------------------------------------------------
# Account-level CloudWatch role (once per account and region)
# -------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "apigateway_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "apigateway_logs" {
  statement {
    sid = "WriteApiGatewayLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:PutLogEvents",
    ]
    # The account setting serves every API in the region, so every log group of the account.
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
  }
}

resource "aws_iam_role" "apigateway_cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name               = "${var.name_prefix}-apigateway-cloudwatch"
  description        = "API Gateway (account setting, ${local.region}): write access and execution logs"
  assume_role_policy = data.aws_iam_policy_document.apigateway_trust.json
}

resource "aws_iam_role_policy" "apigateway_cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name   = "write-logs"
  role   = aws_iam_role.apigateway_cloudwatch[0].id
  policy = data.aws_iam_policy_document.apigateway_logs.json
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy.apigateway_cloudwatch]
}

# -------------------------------------------------------------------------------------------
# WebSocket API (streaming answers), only with a streaming function
# -------------------------------------------------------------------------------------------
resource "aws_apigatewayv2_api" "websocket" {
  count = local.websocket ? 1 : 0

  name                         = "${var.name_prefix}-stream"
  description                  = "kass streaming answers"
  protocol_type                = "WEBSOCKET"
  route_selection_expression   = "$request.body.action"
  api_key_selection_expression = local.websocket_authorizer ? "$context.authorizer.usageIdentifierKey" : "$request.header.x-api-key"
}

# $connect's authorizer: the streaming function answers Allow with usageIdentifierKey = the
# api_key query parameter, and API Gateway then checks that key against the usage plan. A
# request without the parameter is refused (401) before any function runs.
resource "aws_apigatewayv2_authorizer" "websocket" {
  count = local.websocket_authorizer ? 1 : 0

  api_id           = aws_apigatewayv2_api.websocket[0].id
  name             = "${var.name_prefix}-stream-api-key"
  authorizer_type  = "REQUEST"
  authorizer_uri   = var.websocket_function.invoke_arn
  identity_sources = ["route.request.querystring.api_key"]
}

resource "aws_lambda_permission" "websocket_authorizer" {
  count = local.websocket_authorizer ? 1 : 0

  statement_id  = "apigw-ws-authorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.websocket_function.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.websocket[0].execution_arn}/authorizers/${aws_apigatewayv2_authorizer.websocket[0].id}"
}

resource "aws_apigatewayv2_integration" "websocket" {
  count = local.websocket ? 1 : 0

  api_id             = aws_apigatewayv2_api.websocket[0].id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = var.websocket_function.invoke_arn
}

resource "aws_apigatewayv2_route" "websocket" {
  for_each = local.websocket_routes

  #checkov:skip=CKV_AWS_309: $connect has the API-key authorizer (websocket_api_key_required); $disconnect and $default are only reachable on a connection that passed $connect, and API Gateway allows an authorizer on $connect only
  api_id             = aws_apigatewayv2_api.websocket[0].id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.websocket[0].id}"
  authorization_type = each.key == "$connect" && local.websocket_authorizer ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" && local.websocket_authorizer ? aws_apigatewayv2_authorizer.websocket[0].id : null
  api_key_required   = each.key == "$connect" && local.websocket_authorizer
}

resource "aws_cloudwatch_log_group" "websocket" {
  count = local.websocket ? 1 : 0

  #checkov:skip=CKV_AWS_158: encrypted with log_kms_key_arn when one is given, else with CloudWatch Logs' own encryption
  name              = "/aws/apigateway/${var.name_prefix}-stream/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

resource "aws_apigatewayv2_stage" "websocket" {
  count = local.websocket ? 1 : 0

  #checkov:skip=CKV2_AWS_51: WebSocket clients authenticate with the API key on $connect (?api_key=); no mutual TLS client certificates

  api_id      = aws_apigatewayv2_api.websocket[0].id
  name        = var.stage_name
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.websocket[0].arn
    format          = local.websocket_log_format
  }

  default_route_settings {
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
    logging_level          = var.execution_logging_level
    data_trace_enabled     = false
  }

  depends_on = [aws_apigatewayv2_route.websocket, aws_api_gateway_account.this]
}

resource "aws_lambda_permission" "websocket" {
  for_each = local.websocket_routes

  statement_id  = "apigw-ws-${trimprefix(each.key, "$")}"
  action        = "lambda:InvokeFunction"
  function_name = var.websocket_function.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.websocket[0].execution_arn}/${var.stage_name}/${each.key}"
}

# The streaming function posts to its connections (tokens, the final answer). Granted here,
# not through the lambda module's policy_statements: the function's main policy is created
# before the function, which this API needs first, so that would be a cycle.
resource "aws_iam_role_policy" "websocket_connections" {
  count = local.websocket ? 1 : 0

  name = "${var.name_prefix}-stream-connections"
  role = var.websocket_function.role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PostToWebSocketConnections"
      Effect   = "Allow"
      Action   = ["execute-api:ManageConnections"]
      Resource = ["${aws_apigatewayv2_api.websocket[0].execution_arn}/${var.stage_name}/POST/@connections/*"]
    }]
  })
}

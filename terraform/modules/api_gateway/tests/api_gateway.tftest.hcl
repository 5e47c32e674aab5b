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
  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      id               = "a1b2c3d4e5"
      root_resource_id = "root000000"
      execution_arn    = "arn:aws:execute-api:ap-northeast-1:123456789012:a1b2c3d4e5"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "w1s2o3c4k5"
      execution_arn = "arn:aws:execute-api:ap-northeast-1:123456789012:w1s2o3c4k5"
    }
  }
  mock_resource "aws_apigatewayv2_authorizer" {
    defaults = { id = "auth01" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
}

variables {
  name_prefix = "kass-dev"
  # kass.api.routes.HTTP_ROUTES
  routes = [
    { method = "POST", path = "/chat", function_name = "kass-dev-orchestrator", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-orchestrator/invocations" },
    { method = "GET", path = "/conversations", function_name = "kass-dev-orchestrator", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-orchestrator/invocations" },
    { method = "GET", path = "/conversations/{conversation_id}", function_name = "kass-dev-orchestrator", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-orchestrator/invocations" },
    { method = "GET", path = "/health", function_name = "kass-dev-orchestrator", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-orchestrator/invocations" },
    { method = "POST", path = "/search", function_name = "kass-dev-vector_search", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-vector_search/invocations" },
    { method = "POST", path = "/discord", function_name = "kass-dev-discord-handler", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-discord-handler/invocations", api_key_required = false },
  ]
}

run "builds_the_route_tree_with_keys_and_scoped_permissions" {
  command = plan

  assert {
    condition     = toset(keys(aws_api_gateway_resource.depth1)) == toset(["chat", "conversations", "health", "search", "discord"]) && toset(keys(aws_api_gateway_resource.depth2)) == toset(["conversations/{conversation_id}"])
    error_message = "One resource per path segment, nested under its parent."
  }

  assert {
    condition     = aws_api_gateway_resource.depth2["conversations/{conversation_id}"].path_part == "{conversation_id}"
    error_message = "The nested resource's path part is the parameter."
  }

  assert {
    condition     = [for k, m in aws_api_gateway_method.route : k if !m.api_key_required] == ["POST /discord"] && aws_api_gateway_method.route["POST /discord"].authorization == "NONE"
    error_message = "Every route requires an API key except POST /discord (api_key_required = false: Discord signs its requests)."
  }

  assert {
    condition     = aws_api_gateway_method.route["GET /conversations/{conversation_id}"].request_parameters["method.request.path.conversation_id"]
    error_message = "Path parameters are declared on the method."
  }

  assert {
    condition     = alltrue([for i in aws_api_gateway_integration.route : i.type == "AWS_PROXY" && i.integration_http_method == "POST"])
    error_message = "Routes are Lambda proxy integrations."
  }

  assert {
    condition     = aws_lambda_permission.route["GET /conversations/{conversation_id}"].source_arn == "arn:aws:execute-api:ap-northeast-1:123456789012:a1b2c3d4e5/v1/GET/conversations/*"
    error_message = "Lambda permissions are scoped to this API, stage, method and path."
  }

  assert {
    condition     = length(distinct([for p in aws_lambda_permission.route : "${p.function_name}/${p.statement_id}"])) == length(var.routes)
    error_message = "Statement IDs must be unique per function."
  }

  assert {
    condition     = aws_api_gateway_stage.this.xray_tracing_enabled && strcontains(aws_api_gateway_stage.this.access_log_settings[0].format, "$context.requestId")
    error_message = "X-Ray on, JSON access logs with the request id."
  }

  assert {
    condition     = aws_api_gateway_method_settings.all.settings[0].metrics_enabled && !aws_api_gateway_method_settings.all.settings[0].data_trace_enabled
    error_message = "Metrics on, request/response bodies never logged."
  }

  assert {
    condition     = aws_api_gateway_usage_plan.this.throttle_settings[0].rate_limit == 10 && aws_api_gateway_usage_plan.this.quota_settings[0].period == "DAY"
    error_message = "Usage plan throttles and quotas per key."
  }

  assert {
    condition     = alltrue([for k in aws_api_gateway_api_key.this : startswith(k.name, "kass-dev-")]) && startswith(aws_api_gateway_rest_api.this.name, "kass-dev-")
    error_message = "Names carry the environment prefix."
  }

  assert {
    condition     = length(aws_apigatewayv2_api.websocket) == 0 && output.websocket_url == null
    error_message = "No WebSocket API without a streaming function."
  }

  assert {
    condition     = length(aws_api_gateway_method.cors) == 0 && length(aws_api_gateway_authorizer.cognito) == 0
    error_message = "CORS and the Cognito authorizer are opt-in."
  }
}

run "cognito_cors_and_websocket" {
  command = plan

  variables {
    cognito_user_pool_arns = ["arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEf123"]
    cors_allow_origin      = "https://d111111abcdef8.cloudfront.net"
    websocket_function = {
      function_name = "kass-dev-stream-handler"
      invoke_arn    = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-stream-handler/invocations"
      role_name     = "kass-dev-stream-handler"
    }
  }

  assert {
    condition     = aws_api_gateway_method.route["POST /chat"].authorization == "COGNITO_USER_POOLS" && aws_api_gateway_method.route["GET /health"].authorization == "NONE"
    error_message = "JWTs are required except on the exempt liveness path."
  }

  assert {
    condition     = aws_api_gateway_method.route["POST /discord"].authorization == "NONE" && !aws_api_gateway_method.route["POST /discord"].api_key_required
    error_message = "A keyless route takes no JWT either: its function authenticates the caller."
  }

  assert {
    condition     = length(aws_api_gateway_method.cors) == 6 && aws_api_gateway_integration_response.cors["/conversations"].response_parameters["method.response.header.Access-Control-Allow-Methods"] == "'GET,OPTIONS'"
    error_message = "One preflight per path, listing that path's methods."
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.websocket)) == toset(["$connect", "$disconnect", "$default"]) && aws_apigatewayv2_route.websocket["$connect"].api_key_required
    error_message = "WebSocket routes $connect/$disconnect/$default, the key checked on $connect."
  }

  assert {
    condition     = aws_lambda_permission.websocket["$connect"].source_arn == "arn:aws:execute-api:ap-northeast-1:123456789012:w1s2o3c4k5/v1/$connect"
    error_message = "WebSocket Lambda permissions are scoped to the API, stage and route."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.websocket[0].authorizer_type == "REQUEST" && aws_apigatewayv2_authorizer.websocket[0].identity_sources == toset(["route.request.querystring.api_key"]) && aws_apigatewayv2_authorizer.websocket[0].authorizer_uri == var.websocket_function.invoke_arn
    error_message = "$connect's authorizer is the streaming function, fed the api_key query parameter (browsers cannot send headers on a WebSocket)."
  }

  assert {
    condition     = aws_apigatewayv2_route.websocket["$connect"].authorization_type == "CUSTOM" && aws_apigatewayv2_route.websocket["$connect"].authorizer_id == "auth01" && aws_apigatewayv2_route.websocket["$default"].authorization_type == "NONE"
    error_message = "Only $connect goes through the authorizer (API Gateway allows none on the other routes)."
  }

  assert {
    condition     = aws_apigatewayv2_api.websocket[0].api_key_selection_expression == "$context.authorizer.usageIdentifierKey"
    error_message = "The key API Gateway checks against the usage plan is the one the authorizer returns."
  }

  assert {
    condition     = length(aws_api_gateway_usage_plan.this.api_stages) == 2
    error_message = "The WebSocket stage is in the usage plan (throttling and quota per key) when keys are required."
  }

  assert {
    condition     = aws_lambda_permission.websocket_authorizer[0].source_arn == "arn:aws:execute-api:ap-northeast-1:123456789012:w1s2o3c4k5/authorizers/auth01" && aws_lambda_permission.websocket_authorizer[0].function_name == "kass-dev-stream-handler"
    error_message = "API Gateway may invoke the function as this API's authorizer only."
  }

  assert {
    condition = aws_iam_role_policy.websocket_connections[0].role == "kass-dev-stream-handler" && jsondecode(aws_iam_role_policy.websocket_connections[0].policy).Statement == [{
      Sid      = "PostToWebSocketConnections"
      Effect   = "Allow"
      Action   = ["execute-api:ManageConnections"]
      Resource = ["arn:aws:execute-api:ap-northeast-1:123456789012:w1s2o3c4k5/v1/POST/@connections/*"]
    }]
    error_message = "The streaming function's role may post to this stage's connections, nothing else."
  }

  assert {
    condition     = strcontains(aws_apigatewayv2_stage.websocket[0].access_log_settings[0].format, "$context.authorizer.error")
    error_message = "The WebSocket access log shows why a connection was refused."
  }
}

run "websocket_without_api_key" {
  command = plan

  variables {
    websocket_api_key_required = false
    websocket_function = {
      function_name = "kass-dev-stream-handler"
      invoke_arn    = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-stream-handler/invocations"
      role_name     = "kass-dev-stream-handler"
    }
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.websocket) == 0 && length(aws_lambda_permission.websocket_authorizer) == 0
    error_message = "No key, no authorizer."
  }

  assert {
    condition     = aws_apigatewayv2_route.websocket["$connect"].authorization_type == "NONE" && !aws_apigatewayv2_route.websocket["$connect"].api_key_required
    error_message = "$connect is open: the function authenticates connections itself."
  }

  assert {
    condition     = length(aws_api_gateway_usage_plan.this.api_stages) == 1 && length(aws_iam_role_policy.websocket_connections) == 1
    error_message = "Only the REST stage is in the usage plan; the function may still post to its connections."
  }
}

run "rejects_a_role_arn_as_the_streaming_role_name" {
  command = plan

  variables {
    websocket_function = {
      function_name = "kass-dev-stream-handler"
      invoke_arn    = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:kass-dev-stream-handler/invocations"
      role_name     = "arn:aws:iam::123456789012:role/kass-dev-stream-handler"
    }
  }

  expect_failures = [var.websocket_function]
}

run "rejects_no_routes" {
  command = plan

  variables {
    routes = []
  }

  expect_failures = [var.routes]
}

run "rejects_a_lowercase_method_and_a_flask_style_path" {
  command = plan

  variables {
    routes = [{ method = "get", path = "/conversations/<conversation_id>", function_name = "f", invoke_arn = "arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-northeast-1:123456789012:function:f/invocations" }]
  }

  expect_failures = [var.routes, var.routes]
}

run "rejects_a_function_arn_instead_of_an_invoke_arn" {
  command = plan

  variables {
    routes = [{ method = "GET", path = "/health", function_name = "f", invoke_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:f" }]
  }

  expect_failures = [var.routes]
}

run "rejects_an_unknown_quota_period" {
  command = plan

  variables {
    quota_period = "HOUR"
  }

  expect_failures = [var.quota_period]
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan

  variables {
    log_retention_days = 45
  }

  expect_failures = [var.log_retention_days]
}

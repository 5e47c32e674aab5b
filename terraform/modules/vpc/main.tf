# A private network for the functions: subnets across AZs, free gateway endpoints for S3 and
# DynamoDB, interface endpoints (PrivateLink) for the other AWS APIs the functions call, and one
# security group for the functions. No route to the internet unless nat_gateway_enabled: then one
# NAT gateway in the first zone gives the private subnets HTTPS egress (the orchestrator's agents
# call GitLab, Slack and Backlog) while AWS APIs keep their endpoints (README).

data "aws_region" "current" {}

locals {
  region             = data.aws_region.current.name
  interface_services = toset([for s in var.interface_endpoint_services : s if s != "aoss"])
  create_aoss        = contains(var.interface_endpoint_services, "aoss")
  # The private subnets take the first /+4 blocks (at most 6 zones: indexes 0-5); the NAT's
  # public subnet takes the last one (index 15), so the two never overlap.
  public_subnet_cidr = cidrsubnet(var.cidr_block, 4, 15)
  nat_count          = var.nat_gateway_enabled ? 1 : 0
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true # private DNS names of the interface endpoints
  tags                 = { Name = var.name_prefix }
}

# Nothing may use the default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-default-unused" }
}

resource "aws_subnet" "private" {
  count                   = length(var.availability_zones)
  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = cidrsubnet(var.cidr_block, 4, count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name_prefix}-private-${var.availability_zones[count.index]}" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# -- internet egress (optional) ---------------------------------------------------------------
# One NAT gateway in the first zone: the second zone's functions cross zones to reach it (a zone
# outage there costs only the agents' outside calls, not answers or search), at the price of one
# gateway rather than one per zone.

resource "aws_subnet" "public" {
  count                   = local.nat_count
  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[0]
  cidr_block              = local.public_subnet_cidr
  map_public_ip_on_launch = false # only the NAT gateway lives here, with its own EIP
  tags                    = { Name = "${var.name_prefix}-public-${var.availability_zones[0]}" }
}

resource "aws_internet_gateway" "this" {
  count  = local.nat_count
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name_prefix }
}

resource "aws_route_table" "public" {
  count  = local.nat_count
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-public" }
}

resource "aws_route" "public_internet" {
  count                  = local.nat_count
  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count          = local.nat_count
  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  #checkov:skip=CKV2_AWS_19:The address belongs to the NAT gateway (allocation_id), not to an EC2 instance.
  count      = local.nat_count
  domain     = "vpc"
  tags       = { Name = "${var.name_prefix}-nat" }
  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_count
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = var.name_prefix }
  depends_on    = [aws_internet_gateway.this]
}

# Everything without a more specific route (the gateway endpoints' prefix lists, the VPC itself).
resource "aws_route" "private_nat" {
  count                  = local.nat_count
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

# -- endpoints -----------------------------------------------------------------------------

resource "aws_vpc_endpoint" "gateway" {
  for_each          = toset(["s3", "dynamodb"])
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = { Name = "${var.name_prefix}-${each.key}" }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_services
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  tags                = { Name = "${var.name_prefix}-${each.key}" }
}

# OpenSearch Serverless has its own VPC endpoint resource; the opensearch module's network
# policy names it (aoss_vpc_endpoint_id).
resource "aws_opensearchserverless_vpc_endpoint" "aoss" {
  count              = local.create_aoss ? 1 : 0
  name               = "${var.name_prefix}-aoss"
  vpc_id             = aws_vpc.this.id
  subnet_ids         = aws_subnet.private[*].id
  security_group_ids = [aws_security_group.endpoints.id]
}

# -- security groups -------------------------------------------------------------------------

resource "aws_security_group" "functions" {
  #checkov:skip=CKV2_AWS_5:Attached by the lambda module (vpc_config.security_group_ids) in the environment, not in this module.
  name = "${var.name_prefix}-functions"
  # Predates the NAT option (functions_to_internet adds HTTPS out); kept: a new text replaces the group.
  description = "kass Lambda functions: HTTPS to the VPC endpoints only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name_prefix}-functions" }
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-endpoints"
  description = "kass interface endpoints: HTTPS from the functions only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name_prefix}-endpoints" }
}

resource "aws_vpc_security_group_egress_rule" "functions_to_endpoints" {
  security_group_id            = aws_security_group.functions.id
  description                  = "HTTPS to the interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_gateways" {
  for_each          = aws_vpc_endpoint.gateway
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to ${each.key} through its gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = each.value.prefix_list_id
}

# HTTPS only, and only with the NAT: GitLab, Slack and Backlog have no fixed address ranges to
# name here. Other ports stay closed.
resource "aws_vpc_security_group_egress_rule" "functions_to_internet" {
  count             = local.nat_count
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to the internet through the NAT gateway (GitLab, Slack, Backlog)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_functions" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the kass functions"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.functions.id
}

# -- flow logs -----------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_158:KMS for logs is optional (flow_logs_kms_key_arn); it needs a key policy for the CloudWatch Logs service, and without one logs are still encrypted at rest by CloudWatch.
  #checkov:skip=CKV_AWS_338:Retention is a per-environment cost decision (flow_logs_retention_days, validated against CloudWatch's allowed values).
  count             = var.enable_flow_logs ? 1 : 0
  name              = "/aws/vpc/${var.name_prefix}/flow-logs"
  retention_in_days = var.flow_logs_retention_days
  kms_key_id        = var.flow_logs_kms_key_arn
}

resource "aws_iam_role" "flow_logs" {
  count       = var.enable_flow_logs ? 1 : 0
  name        = "${var.name_prefix}-vpc-flow-logs"
  description = "VPC flow logs of ${var.name_prefix} write to their log group"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  count = var.enable_flow_logs ? 1 : 0
  name  = "write-flow-logs"
  role  = aws_iam_role.flow_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteFlowLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["${aws_cloudwatch_log_group.flow_logs[0].arn}:*"]
    }]
  })
}

resource "aws_flow_log" "this" {
  count                = var.enable_flow_logs ? 1 : 0
  vpc_id               = aws_vpc.this.id
  traffic_type         = var.flow_logs_traffic_type
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn
}

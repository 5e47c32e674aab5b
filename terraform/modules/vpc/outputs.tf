output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnet IDs, one per availability zone, in the order of availability_zones."
  value       = aws_subnet.private[*].id
}

output "functions_security_group_id" {
  description = "Security group for the functions (HTTPS out to the endpoints; to the internet too with nat_gateway_enabled)."
  value       = aws_security_group.functions.id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints (HTTPS in from the functions)."
  value       = aws_security_group.endpoints.id
}

output "lambda_vpc_config" {
  description = "Value for the lambda module's vpc_config: the private subnets and the functions' security group."
  value = {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }
}

output "private_route_table_id" {
  description = "Route table of the private subnets (gateway endpoints attached)."
  value       = aws_route_table.private.id
}

output "gateway_endpoint_ids" {
  description = "Gateway endpoint ID per service: s3, dynamodb."
  value       = { for service, endpoint in aws_vpc_endpoint.gateway : service => endpoint.id }
}

output "interface_endpoint_ids" {
  description = "Interface endpoint ID per service (aoss excluded: see aoss_vpc_endpoint_id)."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "aoss_vpc_endpoint_id" {
  description = "OpenSearch Serverless VPC endpoint ID for the collection's network policy (null without `aoss` in interface_endpoint_services)."
  value       = local.create_aoss ? aws_opensearchserverless_vpc_endpoint.aoss[0].id : null
}

output "nat_gateway_id" {
  description = "ID of the NAT gateway (null without nat_gateway_enabled)."
  value       = one(aws_nat_gateway.this[*].id)
}

output "nat_gateway_public_ip" {
  description = "Public IPv4 address the functions' internet calls come from, to allow-list at GitLab, Slack or Backlog (null without nat_gateway_enabled)."
  value       = one(aws_eip.nat[*].public_ip)
}

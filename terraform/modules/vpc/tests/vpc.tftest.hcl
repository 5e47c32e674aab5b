# Plan-level checks with a mocked AWS provider: no credentials, no network (Terraform >= 1.7).
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  name_prefix        = "kass-prod"
  availability_zones = ["us-east-1a", "us-east-1b"]
}

run "private_subnets_endpoints_and_groups" {
  command = plan

  assert {
    condition     = length(aws_subnet.private) == 2 && alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "One private subnet per AZ, never mapping public IPs."
  }
  assert {
    condition     = aws_vpc_endpoint.gateway["s3"].service_name == "com.amazonaws.us-east-1.s3" && aws_vpc_endpoint.gateway["dynamodb"].vpc_endpoint_type == "Gateway"
    error_message = "S3 and DynamoDB must have gateway endpoints."
  }
  assert {
    condition     = length(aws_vpc_endpoint.interface) == 7 && !contains(keys(aws_vpc_endpoint.interface), "aoss") && length(aws_opensearchserverless_vpc_endpoint.aoss) == 1
    error_message = "The default services get interface endpoints; aoss gets its own VPC endpoint."
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "Interface endpoints need private DNS so the SDKs' default hostnames resolve to them."
  }
  assert {
    condition     = aws_security_group.functions.name == "kass-prod-functions" && aws_opensearchserverless_vpc_endpoint.aoss[0].name == "kass-prod-aoss"
    error_message = "Names must be prefixed."
  }
  assert {
    condition = (length(aws_nat_gateway.this) + length(aws_eip.nat) + length(aws_internet_gateway.this) + length(aws_subnet.public)
    + length(aws_route.private_nat) + length(aws_vpc_security_group_egress_rule.functions_to_internet)) == 0
    error_message = "Without nat_gateway_enabled there is no internet route, gateway, address or egress rule."
  }
}

run "nat_gateway_gives_https_egress_from_the_first_zone" {
  command = plan

  variables {
    availability_zones  = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
    nat_gateway_enabled = true
  }

  # IDs known during the plan, so the routes' targets can be compared.
  override_resource {
    target          = aws_route_table.private
    override_during = plan
    values          = { id = "rtb-private" }
  }
  override_resource {
    target          = aws_route_table.public
    override_during = plan
    values          = { id = "rtb-public" }
  }
  override_resource {
    target          = aws_internet_gateway.this
    override_during = plan
    values          = { id = "igw-kass" }
  }
  override_resource {
    target          = aws_nat_gateway.this
    override_during = plan
    values          = { id = "nat-kass" }
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1 && length(aws_internet_gateway.this) == 1 && aws_eip.nat[0].domain == "vpc"
    error_message = "One NAT gateway with one Elastic IP and one internet gateway."
  }
  assert {
    condition     = length(aws_subnet.public) == 1 && aws_subnet.public[0].availability_zone == "us-east-1a" && !aws_subnet.public[0].map_public_ip_on_launch
    error_message = "One public subnet, in the first zone, mapping no public IPs."
  }
  assert {
    # Even with the most zones the validation allows, the public block is not a private one.
    condition     = aws_subnet.public[0].cidr_block == "10.40.240.0/20" && !contains(aws_subnet.private[*].cidr_block, aws_subnet.public[0].cidr_block)
    error_message = "The public subnet is the VPC block's last 1/16, clear of the private subnets."
  }
  assert {
    condition     = aws_route.private_nat[0].destination_cidr_block == "0.0.0.0/0" && aws_route.private_nat[0].route_table_id == "rtb-private" && aws_route.private_nat[0].nat_gateway_id == "nat-kass"
    error_message = "The private route table sends its default route to the NAT gateway."
  }
  assert {
    condition     = aws_route.public_internet[0].destination_cidr_block == "0.0.0.0/0" && aws_route.public_internet[0].gateway_id == "igw-kass" && aws_route_table_association.public[0].route_table_id == "rtb-public"
    error_message = "The public subnet routes to the internet gateway."
  }
  assert {
    condition = (aws_vpc_security_group_egress_rule.functions_to_internet[0].cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_egress_rule.functions_to_internet[0].ip_protocol == "tcp"
    && aws_vpc_security_group_egress_rule.functions_to_internet[0].from_port == 443 && aws_vpc_security_group_egress_rule.functions_to_internet[0].to_port == 443)
    error_message = "The functions get HTTPS out to the internet, and no other port."
  }
}

run "empty_zone_list_is_rejected_at_plan" {
  command = plan

  variables {
    availability_zones = []
  }

  expect_failures = [var.availability_zones]
}

run "gateway_services_as_interface_endpoints_are_rejected_at_plan" {
  command = plan

  variables {
    interface_endpoint_services = ["s3", "logs"]
  }

  expect_failures = [var.interface_endpoint_services]
}

run "unknown_environment_is_rejected_at_plan" {
  command = plan

  variables {
    name_prefix = "kass-test"
  }

  expect_failures = [var.name_prefix]
}

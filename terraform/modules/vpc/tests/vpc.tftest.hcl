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

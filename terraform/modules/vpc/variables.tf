variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`)."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "cidr_block" {
  description = "IPv4 range of the VPC, /16 to /24; each private subnet takes 1/16 of it (the first ones), the NAT's public subnet the last 1/16."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && try(tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24, false)
    error_message = "Set cidr_block to an IPv4 CIDR between /16 and /24, e.g. 10.40.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones of the private subnets, one subnet each, e.g. [\"us-east-1a\", \"us-east-1b\"]. Two or more for a function that must survive an AZ outage."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 1 && length(var.availability_zones) <= 6 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "Set availability_zones to 1-6 distinct zone names, e.g. [\"us-east-1a\", \"us-east-1b\"]."
  }

  validation {
    condition     = alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", az))])
    error_message = "Set availability_zones to zone names such as us-east-1a (not zone ids such as use1-az1)."
  }
}

variable "interface_endpoint_services" {
  description = "AWS services the functions reach through interface endpoints (PrivateLink), as in com.amazonaws.<region>.<service>; `aoss` creates an OpenSearch Serverless VPC endpoint. Each costs about $7/month per AZ plus data: see README."
  type        = list(string)
  default     = ["bedrock-runtime", "sagemaker.runtime", "aoss", "logs", "sqs", "kms", "secretsmanager", "xray"]

  validation {
    condition     = alltrue([for s in var.interface_endpoint_services : can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", s))]) && length(distinct(var.interface_endpoint_services)) == length(var.interface_endpoint_services)
    error_message = "Set interface_endpoint_services to distinct service names as in com.amazonaws.<region>.<service>, e.g. bedrock-runtime, sagemaker.runtime, aoss, logs."
  }

  validation {
    condition     = !contains(var.interface_endpoint_services, "s3") && !contains(var.interface_endpoint_services, "dynamodb")
    error_message = "Remove s3 and dynamodb from interface_endpoint_services: the module always creates free gateway endpoints for them."
  }
}

variable "enable_flow_logs" {
  description = "Record the VPC's flow logs (traffic_type below) in a CloudWatch log group."
  type        = bool
  default     = true
}

variable "flow_logs_traffic_type" {
  description = "Which flows to log: REJECT (cheapest; shows blocked calls), ACCEPT or ALL."
  type        = string
  default     = "REJECT"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_logs_traffic_type)
    error_message = "Set flow_logs_traffic_type to ACCEPT, REJECT or ALL."
  }
}

variable "flow_logs_retention_days" {
  description = "Days CloudWatch keeps the flow logs (one of CloudWatch's allowed values)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "Set flow_logs_retention_days to one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "flow_logs_kms_key_arn" {
  description = "Optional KMS key ARN for the flow log group; its key policy must allow logs.<region>.amazonaws.com. Null: CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.flow_logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.flow_logs_kms_key_arn))
    error_message = "Set flow_logs_kms_key_arn to a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>) or leave it null."
  }
}

variable "nat_gateway_enabled" {
  description = "Give the private subnets HTTPS egress to the internet: one NAT gateway (with an Elastic IP, in the first zone, in a public subnet carved from the end of cidr_block) and TCP 443 out from the functions' security group. For functions that call services outside AWS (the orchestrator's agents: GitLab, Slack, Backlog). About $45/month plus $0.062/GB in ap-northeast-1: see README."
  type        = bool
  default     = false
}

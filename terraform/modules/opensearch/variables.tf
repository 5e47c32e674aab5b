variable "name_prefix" {
  description = "Prefix of every name, `kass-<env>` (e.g. `kass-dev`), optionally with one suffix (`kass-dev-alice`); at most 24 characters."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "engine" {
  description = "`serverless`: an OpenSearch Serverless VECTORSEARCH collection (no servers, but a minimum of OCUs billed around the clock). `domain`: a small managed OpenSearch domain (lower idle cost, you size it)."
  type        = string
  default     = "serverless"

  validation {
    condition     = contains(["serverless", "domain"], var.engine)
    error_message = "Set engine to \"serverless\" or \"domain\"."
  }
}

variable "principal_arns" {
  description = "IAM role ARNs of the functions that read and write the index (document_processor, vector_search, orchestrator). Only they get data access."
  type        = list(string)

  validation {
    condition     = length(var.principal_arns) > 0
    error_message = "principal_arns is empty: pass the IAM role ARNs of the functions that use the index."
  }

  validation {
    condition     = alltrue([for arn in var.principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "Every principal_arns entry must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)."
  }
}

variable "index_name" {
  description = "The chunk index the functions use (KASS_AWS_OPENSEARCH_INDEX). The data access policy is scoped to it."
  type        = string
  default     = "kass-chunks"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,127}$", var.index_name))
    error_message = "index_name must be lowercase letters, digits, '-' or '_' (at most 128 characters), as OpenSearch requires."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for encryption at rest. null: an AWS-owned key (serverless) or the AWS-managed `aws/es` key (domain). Note: on Serverless every distinct key starts its own set of OCUs."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

# --- network ---------------------------------------------------------------------------------

variable "subnet_ids" {
  description = "Domain only: private subnet IDs for the domain's nodes (one per Availability Zone used, at least one). Serverless ignores it (its VPC endpoint comes from the vpc module)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "Every subnet_ids entry must look like subnet-0123abcd."
  }
}

variable "security_group_ids" {
  description = "Domain only: security groups of the domain's ENIs; they must allow HTTPS (443) from the functions' security group."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "Every security_group_ids entry must look like sg-0123abcd."
  }
}

variable "aoss_vpc_endpoint_ids" {
  description = "Serverless only: OpenSearch Serverless VPC endpoint IDs (the vpc module's aoss_vpc_endpoint_id; made by the aoss CreateVpcEndpoint API, not EC2 interface endpoints) the network policy admits."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.aoss_vpc_endpoint_ids : can(regex("^vpce-[0-9a-z]+$", id))])
    error_message = "Every aoss_vpc_endpoint_ids entry must look like vpce-0123abcd."
  }
}

variable "allow_public_access" {
  description = "Serverless network policy: reachable from the internet (still SigV4 + data access policy). null = private when aoss_vpc_endpoint_ids is given, public otherwise."
  type        = bool
  default     = null
}

# --- serverless ------------------------------------------------------------------------------

variable "standby_replicas" {
  description = "Serverless redundancy. true: replicas in a second AZ, idle floor 2 OCUs (1 indexing + 1 search, each 0.5 x 2). false: idle floor 1 OCU (0.5 + 0.5), half the idle cost; fine for dev."
  type        = bool
  default     = true
}

# --- managed domain --------------------------------------------------------------------------

variable "domain_engine_version" {
  description = "Managed domain engine. Hybrid search needs OpenSearch 2.10+ (normalization processor); RRF (score-ranker processor) needs 2.19+."
  type        = string
  default     = "OpenSearch_2.19"

  validation {
    condition     = can(regex("^OpenSearch_(2\\.(1[0-9]|[2-9][0-9])|[3-9]\\.[0-9]+)$", var.domain_engine_version))
    error_message = "domain_engine_version must be OpenSearch_2.10 or later (e.g. OpenSearch_2.19): hybrid search needs the normalization processor."
  }
}

variable "domain_instance_type" {
  description = "Managed domain data node type. The low-cost default t3.small.search has 2 GiB; k-NN graphs live in memory, so size up (t3.medium.search, r7g.medium.search) for large corpora. T2 types are refused (no encryption at rest)."
  type        = string
  default     = "t3.small.search"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*\\.[0-9]*(nano|micro|small|medium|large|xlarge)\\.search$", var.domain_instance_type))
    error_message = "domain_instance_type must be an OpenSearch Service instance type such as t3.small.search or r7g.medium.search."
  }

  validation {
    condition     = !startswith(var.domain_instance_type, "t2.")
    error_message = "T2 instance types do not support encryption at rest; use t3.small.search or larger."
  }
}

variable "domain_instance_count" {
  description = "Managed domain data nodes. 1 is cheapest (no replica); 2+ spreads over Availability Zones (one subnet per node's AZ)."
  type        = number
  default     = 1

  validation {
    condition     = var.domain_instance_count >= 1 && var.domain_instance_count <= 10 && floor(var.domain_instance_count) == var.domain_instance_count
    error_message = "domain_instance_count must be a whole number from 1 to 10."
  }
}

variable "domain_volume_size_gb" {
  description = "Managed domain gp3 EBS volume per node, GiB."
  type        = number
  default     = 10

  validation {
    condition     = var.domain_volume_size_gb >= 10 && var.domain_volume_size_gb <= 1024
    error_message = "domain_volume_size_gb must be between 10 and 1024."
  }
}

variable "log_retention_days" {
  description = "Retention in days of the managed domain's application and slow logs (one of CloudWatch's allowed values)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

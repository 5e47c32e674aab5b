# The chunk index store: an OpenSearch Serverless VECTORSEARCH collection (engine = "serverless")
# or a small managed OpenSearch domain (engine = "domain"). What the functions do against it
# (kass.adapters.aws.opensearch): create the index (PUT <index>, GET _mapping, HEAD <index>),
# PUT a search pipeline per fusion weight pair (PUT _search/pipeline/<id>), _search with
# ?search_pipeline=, _bulk (index and delete by _id), GET _cat/indices; on a domain also
# _delete_by_query. Nothing else, so nothing else is granted.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  serverless = var.engine == "serverless"
  domain     = var.engine == "domain"

  # Collection names: 3-32 chars; domain names: 3-28 chars; name_prefix: at most 24 chars.
  collection_name = "${var.name_prefix}-idx"
  domain_name     = "${var.name_prefix}-idx"

  has_aoss_vpce = length(var.aoss_vpc_endpoint_ids) > 0
  public_access = var.allow_public_access == null ? !local.has_aoss_vpce : var.allow_public_access

  collection_rules = [{ ResourceType = "collection", Resource = ["collection/${local.collection_name}"] }]

  # Data access policy permissions (OpenSearch Serverless names, not IAM actions):
  #   CreateIndex   PUT <index>
  #   DescribeIndex GET <index>/_mapping, HEAD <index>, GET _cat/indices
  #   UpdateIndex   PUT <index>/_mapping, _settings (a mapping upgrade of the same index)
  #   ReadDocument  _search, _count
  #   WriteDocument _bulk (index and delete)
  # No DeleteIndex: dropping the index is an operator's job, not a function's.
  index_permissions = [
    "aoss:CreateIndex",
    "aoss:DescribeIndex",
    "aoss:UpdateIndex",
    "aoss:ReadDocument",
    "aoss:WriteDocument",
  ]
  # Search pipelines are collection-level items (PUT/GET _search/pipeline/<id>). AWS documents
  # hybrid search with the normalization processor on Serverless but does not name the
  # permission of PUT _search/pipeline; the collection-items permissions are the ones that
  # cover collection-level objects (templates, pipelines). See README "Search pipelines".
  collection_permissions = [
    "aoss:DescribeCollectionItems",
    "aoss:CreateCollectionItems",
    "aoss:UpdateCollectionItems",
  ]

  domain_arn = "arn:${data.aws_partition.current.partition}:es:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:domain/${local.domain_name}"
  domain_azs = min(var.domain_instance_count, 3)

  # HTTP verbs the adapter uses on a domain: GET (_mapping, _cat, _search), HEAD (index
  # exists), POST (_search, _bulk, _delete_by_query), PUT (index, search pipeline).
  domain_http_actions = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"]
}

# -------------------------------------------------------------------------------------------
# OpenSearch Serverless
# -------------------------------------------------------------------------------------------
resource "aws_opensearchserverless_security_policy" "encryption" {
  count = local.serverless ? 1 : 0

  name        = "${var.name_prefix}-enc"
  type        = "encryption"
  description = "Encryption at rest of the kass chunk collection"
  # Two whole documents, not merge(cond ? {...} : {...}): a conditional between objects of
  # different shapes is unified to map(string), which would turn AWSOwnedKey into "true".
  policy = var.kms_key_arn == null ? jsonencode({
    Rules       = local.collection_rules
    AWSOwnedKey = true
    }) : jsonencode({
    Rules       = local.collection_rules
    AWSOwnedKey = false
    KmsARN      = var.kms_key_arn
  })
}

resource "aws_opensearchserverless_security_policy" "network" {
  count = local.serverless ? 1 : 0

  name        = "${var.name_prefix}-net"
  type        = "network"
  description = local.public_access ? "kass chunk collection: public endpoint (SigV4 + data access policy)" : "kass chunk collection: reachable only through the VPC endpoints"
  policy = local.public_access ? jsonencode([{
    Description     = "kass chunk collection endpoint"
    Rules           = local.collection_rules
    AllowFromPublic = true
    }]) : jsonencode([{
    Description     = "kass chunk collection endpoint"
    Rules           = local.collection_rules
    AllowFromPublic = false
    SourceVPCEs     = var.aoss_vpc_endpoint_ids
  }])

  lifecycle {
    precondition {
      condition     = local.public_access || local.has_aoss_vpce
      error_message = "allow_public_access = false needs aoss_vpc_endpoint_ids (the vpc module's aoss_vpc_endpoint_id, with \"aoss\" in its interface_endpoint_services)."
    }
  }
}

resource "aws_opensearchserverless_access_policy" "data" {
  count = local.serverless ? 1 : 0

  name        = "${var.name_prefix}-data"
  type        = "data"
  description = "kass functions: the chunk index and the fusion search pipelines"
  policy = jsonencode([{
    Description = "kass functions"
    Rules = [
      {
        ResourceType = "index"
        Resource     = ["index/${local.collection_name}/${var.index_name}"]
        Permission   = local.index_permissions
      },
      {
        ResourceType = "collection"
        Resource     = ["collection/${local.collection_name}"]
        Permission   = local.collection_permissions
      },
    ]
    Principal = var.principal_arns
  }])
}

resource "aws_opensearchserverless_collection" "this" {
  count = local.serverless ? 1 : 0

  name             = local.collection_name
  type             = "VECTORSEARCH"
  description      = "kass chunk index (BM25 + k-NN)"
  standby_replicas = var.standby_replicas ? "ENABLED" : "DISABLED"

  # A collection cannot be created before an encryption policy matches its name.
  depends_on = [
    aws_opensearchserverless_security_policy.encryption,
    aws_opensearchserverless_security_policy.network,
  ]
}

# -------------------------------------------------------------------------------------------
# Managed domain
# -------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "domain" {
  count = local.domain ? 1 : 0

  name              = "/aws/opensearch/${local.domain_name}"
  retention_in_days = var.log_retention_days
  #checkov:skip=CKV_AWS_158: encrypted with kms_key_arn when one is given (its key policy must allow logs.<region>.amazonaws.com), else with CloudWatch Logs' own encryption
  kms_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "domain_logs" {
  count = local.domain ? 1 : 0

  statement {
    sid       = "OpenSearchPublishLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.domain[0].arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.domain_arn]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "domain" {
  count = local.domain ? 1 : 0

  policy_name     = "${local.domain_name}-logs"
  policy_document = data.aws_iam_policy_document.domain_logs[0].json
}

resource "aws_opensearch_domain" "this" {
  count = local.domain ? 1 : 0

  #checkov:skip=CKV2_AWS_52: access is an IAM resource policy scoped to the function roles (aws_opensearch_domain_policy); fine-grained access control would need role mappings inside the cluster that the AWS provider cannot manage
  #checkov:skip=CKV_AWS_317: audit logs require fine-grained access control (see CKV2_AWS_52); application and slow logs are published
  #checkov:skip=CKV_AWS_318: dedicated master nodes triple the cost of this small single-purpose domain; the managed-domain option exists for low idle cost
  #checkov:skip=CKV2_AWS_59: same as CKV_AWS_318: no dedicated masters on the low-cost option; set domain_instance_count >= 2 for zone awareness

  domain_name    = local.domain_name
  engine_version = var.domain_engine_version

  cluster_config {
    instance_type          = var.domain_instance_type
    instance_count         = var.domain_instance_count
    zone_awareness_enabled = var.domain_instance_count > 1

    dynamic "zone_awareness_config" {
      for_each = var.domain_instance_count > 1 ? [1] : []
      content {
        availability_zone_count = local.domain_azs
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.domain_volume_size_gb
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
  }

  dynamic "vpc_options" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = slice(var.subnet_ids, 0, min(length(var.subnet_ids), local.domain_azs))
      security_group_ids = var.security_group_ids
    }
  }

  dynamic "log_publishing_options" {
    for_each = toset(["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"])
    content {
      log_type                 = log_publishing_options.value
      cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain[0].arn
    }
  }

  software_update_options {
    auto_software_update_enabled = true
  }

  depends_on = [aws_cloudwatch_log_resource_policy.domain]

  lifecycle {
    precondition {
      condition     = length(var.subnet_ids) >= local.domain_azs
      error_message = "The managed domain runs in the VPC: pass at least one private subnet in subnet_ids, and one per Availability Zone when domain_instance_count > 1 (up to 3)."
    }
  }
}

data "aws_iam_policy_document" "domain_access" {
  count = local.domain ? 1 : 0

  statement {
    sid       = "KassFunctions"
    actions   = local.domain_http_actions
    resources = ["${aws_opensearch_domain.this[0].arn}/*"]

    principals {
      type        = "AWS"
      identifiers = var.principal_arns
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  count = local.domain ? 1 : 0

  domain_name     = aws_opensearch_domain.this[0].domain_name
  access_policies = data.aws_iam_policy_document.domain_access[0].json
}

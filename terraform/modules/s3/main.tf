# The raw documents bucket: `raw/<source>/<doc_id>.json`, written by data_fetcher, read by
# document_processor, whose EventBridge "Object Created"/"Object Deleted" events drive indexing.
# The web page bucket is not here: it belongs to the frontend module with its CloudFront
# distribution, because its bucket policy must name that distribution (README).

locals {
  bucket_name = "${var.name_prefix}-raw${var.bucket_name_suffix}"
}

resource "aws_s3_bucket" "raw" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is not needed: raw documents are copies of GitLab, Slack and Backlog data that data_fetcher can fetch again (a full run rebuilds the bucket).
  #checkov:skip=CKV_AWS_18:Access logging is optional (access_log_bucket): it needs a separate log bucket per account; CloudTrail data events are the alternative.
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "raw" {
  bucket = aws_s3_bucket.raw.id
  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off
  }
}

resource "aws_s3_bucket_public_access_block" "raw" {
  bucket                  = aws_s3_bucket.raw.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "raw" {
  bucket = aws_s3_bucket.raw.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "raw" {
  bucket = aws_s3_bucket.raw.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true # one KMS call per bucket key period instead of per object
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "raw" {
  bucket = aws_s3_bucket.raw.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.raw]
}

# Every object change goes to EventBridge (the eventbridge module routes raw/ changes to SQS).
resource "aws_s3_bucket_notification" "raw" {
  bucket      = aws_s3_bucket.raw.id
  eventbridge = true
}

resource "aws_s3_bucket_policy" "raw" {
  bucket = aws_s3_bucket.raw.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.raw.arn, "${aws_s3_bucket.raw.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.raw]
}

resource "aws_s3_bucket_logging" "raw" {
  count         = var.access_log_bucket == null ? 0 : 1
  bucket        = aws_s3_bucket.raw.id
  target_bucket = var.access_log_bucket
  target_prefix = var.access_log_prefix
}

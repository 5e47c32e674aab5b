# The chat page: a private S3 bucket served only through CloudFront (origin access control),
# HTTPS only, with security headers and a Content-Security-Policy that allows the page to
# talk to itself and to the API origins passed in, nothing else. Uploads every file of web_dir
# and the config.json the page reads (API URL, WebSocket URL, API key).

data "aws_caller_identity" "current" {}

locals {
  bucket_name = "${var.name_prefix}-web-${data.aws_caller_identity.current.account_id}"
  origin_id   = "s3-web"

  # AWS managed cache policy "Managed-CachingOptimized" (a fixed, documented ID; no lookup, so
  # plans work offline and against emulators).
  caching_optimized_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"

  # Content-Type by extension: with X-Content-Type-Options nosniff a wrong type breaks the page.
  content_types = {
    html        = "text/html; charset=utf-8"
    js          = "text/javascript; charset=utf-8"
    css         = "text/css; charset=utf-8"
    svg         = "image/svg+xml"
    json        = "application/json"
    ico         = "image/x-icon"
    png         = "image/png"
    webmanifest = "application/manifest+json"
  }
  # Every file of web_dir but dotfiles and a local config.json (the generated one replaces it).
  files = {
    for f in fileset(var.web_dir, "**") : f => lookup(local.content_types, lower(reverse(split(".", f))[0]), null)
    if f != "config.json" && !can(regex("(^|/)\\.", f))
  }
  # Browsers and CloudFront revalidate every file (a 304 when unchanged), so a deploy shows at
  # once and index.html, its scripts and config.json never mix versions; the page is small.
  cache_control = "no-cache"

  # Where the page finds the API (web/api.js loadConfig); sensitive through api_key.
  config_json = jsonencode({ apiUrl = var.api_url, streamUrl = var.stream_url, apiKey = var.api_key })

  content_security_policy = join("; ", [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    "connect-src ${join(" ", concat(["'self'"], var.api_origins))}",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "upgrade-insecure-requests",
  ])
}

# -------------------------------------------------------------------------------------------
# Bucket
# -------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "web" {
  #checkov:skip=CKV_AWS_18: reads are logged by CloudFront (log_bucket_domain_name); writes come only from the deploy pipeline (CloudTrail)
  #checkov:skip=CKV_AWS_144: static page rebuilt from the repository by CI; cross-region replication adds cost, no recovery value
  #checkov:skip=CKV2_AWS_62: nothing reacts to changes of the page's files
  #checkov:skip=CKV_AWS_145: SSE-S3 by default: SSE-KMS needs a key-policy grant to CloudFront (set kms_key_arn to use it); the files are public web assets
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_public_access_block" "web" {
  bucket                  = aws_s3_bucket.web.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off
  }
}

resource "aws_s3_bucket_versioning" "web" {
  bucket = aws_s3_bucket.web.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.web]
}

data "aws_iam_policy_document" "web_bucket" {
  statement {
    sid       = "CloudFrontReadsThroughOriginAccessControl"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.web.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.web.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"] # a Deny: every action is refused without TLS
    resources = [aws_s3_bucket.web.arn, "${aws_s3_bucket.web.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "web" {
  bucket = aws_s3_bucket.web.id
  policy = data.aws_iam_policy_document.web_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.web]
}

# -------------------------------------------------------------------------------------------
# The page's files
# -------------------------------------------------------------------------------------------
resource "aws_s3_object" "file" {
  for_each = local.files

  bucket        = aws_s3_bucket.web.id
  key           = each.key
  source        = "${var.web_dir}/${each.key}"
  content_type  = each.value
  cache_control = local.cache_control
  # The ETag is the content's MD5 only under SSE-S3 (then a changed object shows as drift);
  # under SSE-KMS it is not, so the hash is kept in the state instead.
  etag        = var.kms_key_arn == null ? filemd5("${var.web_dir}/${each.key}") : null
  source_hash = var.kms_key_arn == null ? null : filemd5("${var.web_dir}/${each.key}")

  lifecycle {
    precondition {
      condition     = each.value != null
      error_message = "${var.web_dir}/${each.key}: no Content-Type for its extension; add it to content_types in terraform/modules/frontend/main.tf (or keep the file out of web_dir)."
    }
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.web]
}

# Generated here, so the page's own files are the same in every environment.
resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.web.id
  key           = "config.json"
  content       = local.config_json
  content_type  = local.content_types.json
  cache_control = local.cache_control
  etag          = var.kms_key_arn == null ? md5(local.config_json) : null
  source_hash   = var.kms_key_arn == null ? null : md5(local.config_json)

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.web]
}

# -------------------------------------------------------------------------------------------
# CloudFront
# -------------------------------------------------------------------------------------------
resource "aws_cloudfront_origin_access_control" "web" {
  name                              = "${var.name_prefix}-web"
  description                       = "kass web page bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name_prefix}-security-headers"
  comment = "kass web page: CSP (self + API), HSTS, no framing, no sniffing"

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    xss_protection {
      protection = true
      mode_block = true
      override   = true
    }
  }

  custom_headers_config {
    items {
      header   = "Permissions-Policy"
      value    = "camera=(), microphone=(), geolocation=(), payment=()"
      override = true
    }
  }
}

resource "aws_cloudfront_distribution" "web" {
  #checkov:skip=CKV_AWS_68: WAF is optional (web_acl_id): the page is static and the API has its own keys, quotas and throttling
  #checkov:skip=CKV2_AWS_47: no WAF by default (see CKV_AWS_68); Log4j rules belong to the web ACL passed in
  #checkov:skip=CKV_AWS_86: access logging is optional (log_bucket_domain_name)
  #checkov:skip=CKV_AWS_310: single S3 origin in one region; a failover origin would need a replicated bucket for a static page CI can redeploy
  #checkov:skip=CKV_AWS_374: the team works from several countries; no geo restriction
  #checkov:skip=CKV_AWS_174: with a custom domain the viewer policy is TLSv1.2_2021; the default *.cloudfront.net certificate cannot be given a minimum protocol
  #checkov:skip=CKV2_AWS_42: custom domain and ACM certificate are optional (domain_names, acm_certificate_arn)
  enabled             = true
  is_ipv6_enabled     = true
  comment             = "kass ${var.name_prefix} web page"
  default_root_object = "index.html"
  http_version        = "http2and3"
  price_class         = var.price_class
  aliases             = var.domain_names
  web_acl_id          = var.web_acl_id

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.web.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.web.id
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == null
    acm_certificate_arn            = var.acm_certificate_arn
    ssl_support_method             = var.acm_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.acm_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  dynamic "logging_config" {
    for_each = var.log_bucket_domain_name == null ? [] : [var.log_bucket_domain_name]
    content {
      bucket          = logging_config.value
      prefix          = "cloudfront/${var.name_prefix}-web/"
      include_cookies = false
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.domain_names) == 0 || var.acm_certificate_arn != null
      error_message = "domain_names needs acm_certificate_arn: an ACM certificate in us-east-1 covering those names."
    }
  }
}

# Plan-level checks with a mocked AWS provider (no credentials, no network).
mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn                         = "arn:aws:s3:::kass-dev-web-123456789012"
      bucket_regional_domain_name = "kass-dev-web-123456789012.s3.ap-northeast-1.amazonaws.com"
    }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      arn         = "arn:aws:cloudfront::123456789012:distribution/E1234567890ABC"
      domain_name = "d111111abcdef8.cloudfront.net"
    }
  }
}

variables {
  name_prefix = "kass-dev"
  api_origins = ["https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com", "wss://w1s2o3c4k5.execute-api.ap-northeast-1.amazonaws.com"]
  web_dir     = "tests/fixtures/web"
  api_url     = "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/v1"
  stream_url  = "wss://w1s2o3c4k5.execute-api.ap-northeast-1.amazonaws.com/v1"
  api_key     = "example-web-page-api-key-not-a-secret"
}

run "uploads_every_file_of_the_page_and_its_config" {
  command = plan

  assert {
    condition = output.files == {
      "index.html"       = "text/html; charset=utf-8"
      "app.js"           = "text/javascript; charset=utf-8"
      "style.css"        = "text/css; charset=utf-8"
      "icons/logo.svg"   = "image/svg+xml"
      "site.webmanifest" = "application/manifest+json"
      "config.json"      = "application/json"
    }
    error_message = "Every file of web_dir (nested too, dotfiles not) is uploaded with its Content-Type, plus the generated config.json."
  }

  assert {
    condition     = aws_s3_object.file["app.js"].source == "tests/fixtures/web/app.js" && aws_s3_object.file["app.js"].etag == filemd5("tests/fixtures/web/app.js") && aws_s3_object.file["app.js"].source_hash == null
    error_message = "Files come from web_dir; under SSE-S3 the ETag (MD5) tracks their content."
  }

  assert {
    condition = nonsensitive(jsondecode(aws_s3_object.config.content)) == {
      apiUrl    = "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/v1"
      streamUrl = "wss://w1s2o3c4k5.execute-api.ap-northeast-1.amazonaws.com/v1"
      apiKey    = "example-web-page-api-key-not-a-secret"
    }
    error_message = "config.json names the REST API, the WebSocket API and the page's API key (web/api.js loadConfig)."
  }

  assert {
    condition     = aws_s3_object.config.key == "config.json" && aws_s3_object.config.cache_control == "no-cache" && aws_s3_object.file["index.html"].cache_control == "no-cache"
    error_message = "config.json (generated, replacing web_dir's own) and the page are revalidated on every load, so a deploy shows at once."
  }
}

run "config_without_streaming_or_key_and_with_sse_kms" {
  command = plan

  variables {
    stream_url  = null
    api_key     = null
    kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = jsondecode(aws_s3_object.config.content).streamUrl == null && jsondecode(aws_s3_object.config.content).apiKey == null
    error_message = "Without a WebSocket API or key, config.json says so (the page falls back to POST /chat)."
  }

  assert {
    condition     = aws_s3_object.file["index.html"].source_hash == filemd5("tests/fixtures/web/index.html")
    error_message = "Under SSE-KMS the ETag is not the MD5: the content hash is kept in the state instead."
  }
}

run "rejects_a_file_without_a_known_content_type" {
  command = plan

  variables {
    web_dir = "tests/fixtures/web-unknown-type"
  }

  expect_failures = [aws_s3_object.file["notes.txt"]]
}

run "rejects_a_folder_without_index_html" {
  command = plan

  variables {
    web_dir = "tests/fixtures"
  }

  expect_failures = [var.web_dir]
}

run "rejects_an_api_key_id_instead_of_its_value" {
  command = plan

  variables {
    api_key = "examplekey"
  }

  expect_failures = [var.api_key]
}

run "rejects_an_http_stream_url" {
  command = plan

  variables {
    stream_url = "https://w1s2o3c4k5.execute-api.ap-northeast-1.amazonaws.com/v1"
  }

  expect_failures = [var.stream_url]
}

run "private_bucket_behind_cloudfront_with_headers" {
  command = plan

  assert {
    condition     = startswith(aws_s3_bucket.web.bucket, "kass-dev-web-")
    error_message = "The bucket name carries the environment prefix."
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.web.block_public_acls && aws_s3_bucket_public_access_block.web.block_public_policy && aws_s3_bucket_public_access_block.web.ignore_public_acls && aws_s3_bucket_public_access_block.web.restrict_public_buckets
    error_message = "All public access is blocked."
  }

  assert {
    condition     = aws_s3_bucket_versioning.web.versioning_configuration[0].status == "Enabled"
    error_message = "The bucket is versioned."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.web.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "AES256"
    error_message = "SSE-S3 by default."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.web_bucket.statement : [for c in s.condition : c.values] if s.sid == "CloudFrontReadsThroughOriginAccessControl"])) == toset(["arn:aws:cloudfront::123456789012:distribution/E1234567890ABC"])
    error_message = "Only this distribution may read the bucket."
  }

  assert {
    condition     = aws_cloudfront_origin_access_control.web.signing_behavior == "always" && aws_cloudfront_origin_access_control.web.origin_access_control_origin_type == "s3"
    error_message = "Origin access control (OAC), always signing."
  }

  assert {
    condition     = aws_cloudfront_distribution.web.default_root_object == "index.html" && aws_cloudfront_distribution.web.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https"
    error_message = "index.html as root, HTTP redirected to HTTPS."
  }

  assert {
    condition     = strcontains(output.content_security_policy, "connect-src 'self' https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com wss://w1s2o3c4k5.execute-api.ap-northeast-1.amazonaws.com;") && strcontains(output.content_security_policy, "default-src 'none'")
    error_message = "The CSP allows only self and the API origins."
  }

  assert {
    condition     = aws_cloudfront_response_headers_policy.security.security_headers_config[0].frame_options[0].frame_option == "DENY"
    error_message = "The page cannot be framed."
  }
}

run "custom_domain_uses_tls12" {
  command = plan

  variables {
    domain_names        = ["chat.example.com"]
    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_cloudfront_distribution.web.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" && output.url == "https://chat.example.com"
    error_message = "Custom domains get TLS 1.2+ and become the page URL."
  }
}

run "rejects_a_custom_domain_without_certificate" {
  command = plan

  variables {
    domain_names = ["chat.example.com"]
  }

  expect_failures = [aws_cloudfront_distribution.web]
}

run "rejects_a_certificate_outside_us_east_1" {
  command = plan

  variables {
    acm_certificate_arn = "arn:aws:acm:ap-northeast-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [var.acm_certificate_arn]
}

run "rejects_a_wildcard_api_origin" {
  command = plan

  variables {
    api_origins = ["https://*.execute-api.ap-northeast-1.amazonaws.com"]
  }

  expect_failures = [var.api_origins]
}

run "rejects_no_api_origin" {
  command = plan

  variables {
    api_origins = []
  }

  expect_failures = [var.api_origins]
}

output "distribution_domain_name" {
  description = "CloudFront domain of the page (dxxxx.cloudfront.net); https://<it> is the page's origin, e.g. for the api_gateway module's cors_allow_origin."
  value       = aws_cloudfront_distribution.web.domain_name
}

output "url" {
  description = "URL of the page: the first custom domain if any, else the CloudFront domain."
  value       = "https://${length(var.domain_names) > 0 ? var.domain_names[0] : aws_cloudfront_distribution.web.domain_name}"
}

output "distribution_id" {
  description = "CloudFront distribution ID (for cache invalidations after a deploy: aws cloudfront create-invalidation --paths '/*')."
  value       = aws_cloudfront_distribution.web.id
}

output "distribution_arn" {
  description = "CloudFront distribution ARN (the only reader allowed by the bucket policy)."
  value       = aws_cloudfront_distribution.web.arn
}

output "bucket_name" {
  description = "S3 bucket holding the page (Terraform uploads web_dir and config.json to it)."
  value       = aws_s3_bucket.web.id
}

output "bucket_arn" {
  description = "S3 bucket ARN (for the deploy role's s3:PutObject grant)."
  value       = aws_s3_bucket.web.arn
}

output "content_security_policy" {
  description = "The Content-Security-Policy header CloudFront adds to every response."
  value       = local.content_security_policy
}

output "files" {
  description = "Objects of the page in the bucket: key => Content-Type (web_dir's files and config.json)."
  value       = merge(local.files, { (aws_s3_object.config.key) = aws_s3_object.config.content_type })
}

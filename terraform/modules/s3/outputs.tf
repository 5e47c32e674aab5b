output "bucket_name" {
  description = "Raw documents bucket name (KASS_AWS_RAW_BUCKET; the eventbridge module's bucket_name)."
  value       = aws_s3_bucket.raw.bucket
}

output "bucket_arn" {
  description = "Raw documents bucket ARN (objects: `<arn>/raw/*`)."
  value       = aws_s3_bucket.raw.arn
}

output "environment_variables" {
  description = "The functions' bucket settings (kass.settings.AwsSettings): KASS_AWS_RAW_BUCKET and KASS_AWS_KMS_KEY_ID."
  value = {
    KASS_AWS_RAW_BUCKET = aws_s3_bucket.raw.bucket
    KASS_AWS_KMS_KEY_ID = var.kms_key_arn
  }
}

output "reader_policy_statements" {
  description = "Statements for the lambda module's policy_statements: read and list raw documents (document_processor)."
  value = [
    { sid = "ReadRawDocuments", actions = ["s3:GetObject"], resources = ["${aws_s3_bucket.raw.arn}/raw/*"] },
    { sid = "ListRawDocuments", actions = ["s3:ListBucket"], resources = [aws_s3_bucket.raw.arn] },
    { sid = "DecryptRawDocuments", actions = ["kms:Decrypt"], resources = [var.kms_key_arn] },
  ]
}

output "writer_policy_statements" {
  description = "Statements for the lambda module's policy_statements: read, write, delete and list raw documents (data_fetcher)."
  value = [
    { sid = "WriteRawDocuments", actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources = ["${aws_s3_bucket.raw.arn}/raw/*"] },
    { sid = "ListRawDocuments", actions = ["s3:ListBucket"], resources = [aws_s3_bucket.raw.arn] },
    { sid = "EncryptRawDocuments", actions = ["kms:Decrypt", "kms:GenerateDataKey"], resources = [var.kms_key_arn] },
  ]
}

output "key_arn" {
  description = "ARN of the key: the kms_key_arn input of the other modules (KASS_AWS_KMS_KEY_ID through the s3 module)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "ID of the key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Alias of the key, `alias/<name_prefix>` (e.g. for `aws secretsmanager create-secret --kms-key-id`)."
  value       = aws_kms_alias.this.name
}

output "alias_arn" {
  description = "ARN of the alias."
  value       = aws_kms_alias.this.arn
}

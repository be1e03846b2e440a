output "bucket_names" {
  description = "Map of key (e.g. `raw`) to bucket name."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "bucket_arns" {
  description = "Map of key to bucket ARN (append `/*` for objects in IAM policies)."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "bucket_regional_domain_names" {
  description = "Map of key to the bucket's regional domain name."
  value       = { for k, b in aws_s3_bucket.this : k => b.bucket_regional_domain_name }
}

output "function_name" {
  description = "ETL function ({tf.function_name})."
  value       = module.etl.function_name
}

output "function_alias" {
  description = "Alias deploytools moves to each published version."
  value       = module.etl.alias_name
}

output "bucket_names" {
  description = "Buckets by purpose (raw, processed, artifacts)."
  value       = module.buckets.bucket_names
}

output "artifacts_bucket" {
  description = "Bucket deploytools uploads Lambda zips to (under lambda/)."
  value       = module.buckets.bucket_names["artifacts"]
}

output "ssm_path" {
  description = "SSM path of the ETL's secrets."
  value       = module.ssm.path
}

output "deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (null without github_repository)."
  value       = module.github_oidc.role_arn
}

output "etl_function_name" {
  description = "Same as function_name ({tf.etl_function_name})."
  value       = module.etl.function_name
}

output "raw_bucket" {
  description = "Raw data bucket ({tf.raw_bucket})."
  value       = module.buckets.bucket_names["raw"]
}

output "processed_bucket" {
  description = "Processed data bucket ({tf.processed_bucket})."
  value       = module.buckets.bucket_names["processed"]
}

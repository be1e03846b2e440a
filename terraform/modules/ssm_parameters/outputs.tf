# Values are never output: only names and ARNs.

output "path" {
  description = "The path prefix, e.g. `/tastetrend/dev/` (what deploytools reads as `secrets.ssm_path`)."
  value       = var.path
}

output "path_arn" {
  description = "ARN of the path without a trailing slash; append `/*` for IAM resources covering every parameter under it."
  value       = local.path_arn
}

output "parameter_names" {
  description = "Map of key (environment variable name) to full parameter name."
  value = var.create_parameters ? { for k, p in merge(aws_ssm_parameter.this, aws_ssm_parameter.seeded) : k => p.name } : {
    for k in local.names : k => "${var.path}${k}"
  }
}

output "parameter_arns" {
  description = "Map of key (environment variable name) to parameter ARN, ready for ECS/Batch `secrets` `valueFrom` (computed from the path when `create_parameters` is false)."
  value = var.create_parameters ? { for k, p in merge(aws_ssm_parameter.this, aws_ssm_parameter.seeded) : k => p.arn } : {
    for k in local.names : k => "${local.path_arn}/${k}"
  }
}

output "kms_key_arns" {
  description = "The KMS key as a list of known length (empty for the AWS managed key), for the `kms_key_arns` inputs of the other modules."
  value       = local.create_kms_key ? [aws_kms_key.this[0].arn] : (var.kms_key_arn == null ? [] : [var.kms_key_arn])
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the SecureString parameters (null for the AWS managed key)."
  value       = local.kms_key_arn
}

output "path" {
  description = "Path prefix of the seeded parameters."
  value       = module.ssm.path
}

output "parameter_arns" {
  description = "Map of name to parameter ARN."
  value       = merge(module.ssm.parameter_arns, module.ssm_managed.parameter_arns, module.ssm_existing.parameter_arns)
}

output "kms_key_arn" {
  description = "ARN of the created KMS key."
  value       = module.ssm.kms_key_arn
}

output "repository_url" {
  description = "URL of the AES256 repository."
  value       = module.ecr.repository_url
}

output "repository_arn" {
  description = "ARN of the AES256 repository."
  value       = module.ecr.repository_arn
}

output "kms_repository_name" {
  description = "Name of the KMS-encrypted repository."
  value       = module.ecr_kms.repository_name
}

output "adopted_repository_arn" {
  description = "ARN the module reports for a repository it adopted (manage_repository = false)."
  value       = module.ecr_adopted.repository_arn
}

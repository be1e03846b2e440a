output "repository_name" {
  description = "Name of the repository."
  value       = var.create ? var.name : null
}

output "repository_arn" {
  description = "ARN of the repository (for IAM policies)."
  value       = try(aws_ecr_repository.this[0].arn, local.adopted.arn, null)
}

output "repository_url" {
  description = "URL of the repository, `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`."
  value       = try(aws_ecr_repository.this[0].repository_url, local.adopted.url, null)
}

output "registry_id" {
  description = "Account ID of the registry that holds the repository."
  value       = try(aws_ecr_repository.this[0].registry_id, local.adopted.registry_id, null)
}

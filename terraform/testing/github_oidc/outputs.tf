output "role_arn" {
  description = "ARN of the deploy role."
  value       = module.github_oidc.role_arn
}

output "provider_arn" {
  description = "ARN of the OIDC provider."
  value       = module.github_oidc.provider_arn
}

output "subjects" {
  description = "Trusted subjects."
  value       = module.github_oidc.subjects
}

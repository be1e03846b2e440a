output "role_arn" {
  description = "ARN of the deploy role: the `role-to-assume` of aws-actions/configure-aws-credentials."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the deploy role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "provider_arn" {
  description = "ARN of the GitHub OIDC provider."
  value       = local.provider_arn
}

output "subjects" {
  description = "The `sub` claims the role trusts."
  value       = local.subjects
}

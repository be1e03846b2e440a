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

output "plan_role_arn" {
  description = "ARN of the read-only plan role: the variable DEPLOYTOOLS_PLAN_ROLE_ARN for deploytools-plan.yml."
  value       = try(aws_iam_role.plan[0].arn, null)
}

output "plan_subjects" {
  description = "The `sub` claims the plan role trusts (pull_request included)."
  value       = local.plan_subjects
}

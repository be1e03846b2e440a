output "arn" {
  description = "ARN of the execution role (null when create is false)."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "name" {
  description = "Name of the execution role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "assume_role_policy" {
  description = "The ECS tasks trust policy (this account only), for the task's own role too."
  value       = data.aws_iam_policy_document.assume.json
}

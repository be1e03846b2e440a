output "function_name" {
  description = "Name of the function (deploytools `targets.<name>.function`)."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "function_arn" {
  description = "Unqualified ARN of the function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "invoke_arn" {
  description = "Invoke ARN of the function (for API Gateway integrations without the alias)."
  value       = try(aws_lambda_function.this[0].invoke_arn, null)
}

output "version" {
  description = "Latest published version as of the last refresh (moves with every deploytools deploy; avoid it in root outputs that should stay quiet)."
  value       = try(aws_lambda_function.this[0].version, null)
}

output "alias_name" {
  description = "Name of the alias (deploytools `targets.<name>.alias`)."
  value       = try(aws_lambda_alias.this[0].name, null)
}

output "alias_arn" {
  description = "ARN of the alias; point API Gateway integrations here so deploys move traffic."
  value       = try(aws_lambda_alias.this[0].arn, null)
}

output "alias_invoke_arn" {
  description = "Invoke ARN of the alias, for API Gateway integrations."
  value       = try(aws_lambda_alias.this[0].invoke_arn, null)
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the execution role, to attach further policies."
  value       = try(aws_iam_role.this[0].name, null)
}

output "log_group_name" {
  description = "Name of the CloudWatch log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

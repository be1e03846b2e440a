output "job_definition_name" {
  description = "Name of the job definition (deploytools `targets.<name>.job_definition`)."
  value       = try(aws_batch_job_definition.this[0].name, null)
}

output "job_definition_arn" {
  description = "ARN without the revision: jobs submitted with it run the newest ACTIVE revision, which deploytools registers."
  value       = try(aws_batch_job_definition.this[0].arn_prefix, null)
}

output "job_role_arn" {
  description = "ARN of the job role."
  value       = try(aws_iam_role.job[0].arn, null)
}

output "execution_role_arn" {
  description = "ARN of the execution role."
  value       = module.execution_role.arn
}

output "log_group_name" {
  description = "Name of the CloudWatch log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

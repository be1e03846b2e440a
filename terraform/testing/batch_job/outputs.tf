output "job_definition_name" {
  description = "Name of the job definition."
  value       = module.batch_job.job_definition_name
}

output "job_definition_arn" {
  description = "ARN of the revision Terraform registered."
  value       = module.batch_job.job_definition_arn
}

output "job_role_arn" {
  description = "ARN of the job role."
  value       = module.batch_job.job_role_arn
}

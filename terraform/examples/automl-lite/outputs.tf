output "api_url" {
  description = "Base URL of the API ({tf.api_url})."
  value       = trimsuffix(aws_apigatewayv2_stage.this.invoke_url, "/")
}

output "function_name" {
  description = "API function ({tf.function_name})."
  value       = module.api.function_name
}

output "function_alias" {
  description = "Alias deploytools moves to each published version."
  value       = module.api.alias_name
}

output "job_definition_name" {
  description = "Training job definition ({tf.job_definition_name})."
  value       = module.training.job_definition_name
}

output "ecr_repository_url" {
  description = "ECR repository of the trainer image."
  value       = module.ecr_trainer.repository_url
}

output "bucket_names" {
  description = "Buckets by purpose (raw datasets, processed, artifacts)."
  value       = module.buckets.bucket_names
}

output "ssm_path" {
  description = "SSM path of the secrets."
  value       = module.ssm.path
}

output "amplify_app_id" {
  description = "Amplify app ID (null in the sandbox: deploytools' Amplify emulator creates the app there)."
  value       = module.frontend.app_id
}

output "amplify_app_name" {
  description = "Amplify app name (frontend.amplify.app)."
  value       = "${local.name}-web"
}

output "frontend_url" {
  description = "URL of the deployed branch (null in the sandbox)."
  value       = module.frontend.branch_url
}

output "deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (null without github_repository)."
  value       = module.github_oidc.role_arn
}

output "api_function_name" {
  description = "Same as function_name ({tf.api_function_name})."
  value       = module.api.function_name
}

output "datasets_bucket" {
  description = "Bucket of uploaded datasets, the raw bucket ({tf.datasets_bucket})."
  value       = module.buckets.bucket_names["raw"]
}

output "batch_job_queue" {
  description = "Job queue training jobs are submitted to ({tf.batch_job_queue})."
  value       = aws_batch_job_queue.training.name
}

output "api_url" {
  description = "Base URL of the HTTP API ({tf.api_url}); POST {api_url}/predict."
  value       = trimsuffix(aws_apigatewayv2_stage.this.invoke_url, "/")
}

output "function_name" {
  description = "Name of the prediction function ({tf.function_name})."
  value       = module.predict.function_name
}

output "function_alias" {
  description = "Alias deploytools moves after warm-up."
  value       = module.predict.alias_name
}

output "ecr_repository_url" {
  description = "ECR repository of the predictor image."
  value       = module.ecr.repository_url
}

output "deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (null without github_repository)."
  value       = module.github_oidc.role_arn
}

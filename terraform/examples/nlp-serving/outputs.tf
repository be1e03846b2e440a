output "eks_cluster_name" {
  description = "EKS cluster ({tf.eks_cluster_name})."
  value       = module.eks.cluster_name
}

output "eks_cluster_endpoint" {
  description = "Kubernetes API server URL."
  value       = module.eks.cluster_endpoint
}

output "function_name" {
  description = "Inference function ({tf.function_name})."
  value       = module.predict.function_name
}

output "function_alias" {
  description = "Alias deploytools moves after warm-up."
  value       = module.predict.alias_name
}

output "ecr_repository_urls" {
  description = "ECR repositories by image name (api, predictor)."
  value       = { for k, r in module.ecr : k => r.repository_url }
}

output "ssm_path" {
  description = "SSM path of the secrets."
  value       = module.ssm.path
}

output "deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (null without github_repository)."
  value       = module.github_oidc.role_arn
}

output "predict_function_name" {
  description = "Same as function_name ({tf.predict_function_name})."
  value       = module.predict.function_name
}

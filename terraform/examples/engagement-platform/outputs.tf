output "ecs_cluster_name" {
  description = "ECS cluster ({tf.ecs_cluster_name})."
  value       = module.scorer.cluster_name
}

output "ecs_service_name" {
  description = "ECS service ({tf.ecs_service_name})."
  value       = module.scorer.service_name
}

output "container_name" {
  description = "Container in the task definition."
  value       = module.scorer.container_name
}

output "api_url" {
  description = "Base URL of the API behind the load balancer ({tf.api_url}); null in the sandbox, which has no load balancer."
  value       = local.create_load_balancer ? "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this[0].dns_name}" : null
}

output "bucket_names" {
  description = "Data lake buckets by purpose (raw, processed, artifacts)."
  value       = module.data_lake.bucket_names
}

output "ssm_path" {
  description = "SSM path of the service's secrets."
  value       = module.ssm.path
}

output "ecr_repository_url" {
  description = "ECR repository of the api image."
  value       = module.ecr.repository_url
}

output "deploy_role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (null without github_repository)."
  value       = module.github_oidc.role_arn
}

output "service_url" {
  description = "Same as api_url ({tf.service_url} in examples/engagement-platform/deploytools.yml)."
  value       = local.create_load_balancer ? "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this[0].dns_name}" : null
}

output "processed_bucket" {
  description = "Bucket of processed features ({tf.processed_bucket})."
  value       = module.data_lake.bucket_names["processed"]
}

output "cluster_name" {
  description = "Name of the ECS cluster (deploytools `targets.<name>.cluster`)."
  value       = var.create_cluster ? try(aws_ecs_cluster.this[0].name, null) : try(element(split("/", var.cluster_arn), 1), null)
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = local.cluster_arn
}

output "service_name" {
  description = "Name of the ECS service (deploytools `targets.<name>.service`)."
  value       = try(aws_ecs_service.this[0].name, null)
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = try(aws_ecs_service.this[0].id, null)
}

output "container_name" {
  description = "Name of the container in the task definition (deploytools `targets.<name>.container`)."
  value       = local.container_name
}

output "task_definition_family" {
  description = "Task definition family; deploytools registers its revisions here."
  value       = try(aws_ecs_task_definition.this[0].family, null)
}

output "task_definition_arn" {
  description = "ARN of the revision Terraform registered (the service may run a later one)."
  value       = try(aws_ecs_task_definition.this[0].arn, null)
}

output "execution_role_arn" {
  description = "ARN of the task execution role (the deploy role must be allowed to pass it)."
  value       = module.execution_role.arn
}

output "task_role_arn" {
  description = "ARN of the task role (the deploy role must be allowed to pass it)."
  value       = try(aws_iam_role.task[0].arn, null)
}

output "log_group_name" {
  description = "Name of the CloudWatch log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "ecs_cluster_name" {
  description = "Name of the cluster."
  value       = module.ecs_service.cluster_name
}

output "ecs_service_name" {
  description = "Name of the service behind the target group."
  value       = module.ecs_service.service_name
}

output "worker_service_name" {
  description = "Name of the worker service."
  value       = module.ecs_worker.service_name
}

output "task_definition_family" {
  description = "Family deploytools registers revisions in."
  value       = module.ecs_service.task_definition_family
}

output "container_name" {
  description = "Name of the container."
  value       = module.ecs_service.container_name
}

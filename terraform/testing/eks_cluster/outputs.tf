output "eks_cluster_name" {
  description = "Name of the cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "API server URL (moto returns a placeholder)."
  value       = module.eks.cluster_endpoint
}

output "node_group_name" {
  description = "Name of the node group."
  value       = module.eks.node_group_name
}

output "cluster_name" {
  description = "Name of the cluster (deploytools `targets.<name>.cluster`)."
  value       = try(aws_eks_cluster.this[0].name, null)
}

output "cluster_arn" {
  description = "ARN of the cluster."
  value       = try(aws_eks_cluster.this[0].arn, null)
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = try(aws_eks_cluster.this[0].endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the API server."
  value       = try(aws_eks_cluster.this[0].certificate_authority[0].data, null)
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the cluster."
  value       = try(aws_eks_cluster.this[0].vpc_config[0].cluster_security_group_id, null)
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster (for IAM roles for service accounts)."
  value       = try(aws_eks_cluster.this[0].identity[0].oidc[0].issuer, null)
}

output "node_group_name" {
  description = "Name of the managed node group."
  value       = try(aws_eks_node_group.this[0].node_group_name, null)
}

output "node_role_arn" {
  description = "ARN of the node role."
  value       = try(aws_iam_role.node[0].arn, null)
}

output "kms_key_arn" {
  description = "KMS key that encrypts Kubernetes secrets."
  value       = local.kms_key_arn
}

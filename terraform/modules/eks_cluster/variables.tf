variable "create" {
  description = "Whether to create any resource."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the cluster (deploytools `targets.<name>.cluster`); also the IAM role prefix."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes version, e.g. `1.31`. Null takes the EKS default."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Subnets of the control plane ENIs (at least two Availability Zones)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Additional security groups for the control plane ENIs."
  type        = list(string)
  default     = []
}

variable "endpoint_public_access" {
  description = "Whether the API server has a public endpoint (GitHub-hosted runners need it)."
  type        = bool
  default     = true
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public endpoint."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "cluster_log_types" {
  description = "Control plane log types sent to CloudWatch."
  type        = list(string)
  default     = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
}

variable "kms_key_arn" {
  description = "KMS key for envelope encryption of Kubernetes secrets. Null creates one (with rotation)."
  type        = string
  default     = null
}

variable "manage_access_config" {
  description = "Whether to set the cluster's access configuration (authentication mode). Access entries need `API` or `API_AND_CONFIG_MAP`."
  type        = bool
  default     = true
}

variable "authentication_mode" {
  description = "`API` or `API_AND_CONFIG_MAP` (access entries need one of these)."
  type        = string
  default     = "API_AND_CONFIG_MAP"

  validation {
    condition     = contains(["API", "API_AND_CONFIG_MAP"], var.authentication_mode)
    error_message = "authentication_mode must be API or API_AND_CONFIG_MAP."
  }
}

variable "bootstrap_cluster_creator_admin_permissions" {
  description = "Whether the identity that creates the cluster becomes cluster admin."
  type        = bool
  default     = true
}

variable "create_node_group" {
  description = "Whether to create the managed node group."
  type        = bool
  default     = true
}

variable "node_subnet_ids" {
  description = "Subnets of the nodes. Null uses `subnet_ids`."
  type        = list(string)
  default     = null
}

variable "node_instance_types" {
  description = "Instance types of the node group."
  type        = list(string)
  default     = ["t3.large"]
}

variable "node_ami_type" {
  description = "AMI type (x86_64 by default, as images are built for linux/amd64)."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_capacity_type" {
  description = "`ON_DEMAND` or `SPOT`."
  type        = string
  default     = "ON_DEMAND"
}

variable "node_disk_size" {
  description = "Root volume size of the nodes in GiB (model images are large)."
  type        = number
  default     = 50
}

variable "node_desired_size" {
  description = "Initial number of nodes (later changes are ignored)."
  type        = number
  default     = 2
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 1
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 3
}

variable "node_labels" {
  description = "Kubernetes labels on the nodes."
  type        = map(string)
  default     = {}
}

variable "create_deploy_access_entry" {
  description = "Whether to create the access entry that lets `deploy_role_arn` patch workloads."
  type        = bool
  default     = true
}

variable "deploy_role_arn" {
  description = "IAM role deploytools runs as (e.g. the github_oidc module's `role_arn`)."
  type        = string
  default     = null
}

variable "deploy_namespaces" {
  description = "Namespaces the deploy role may change; deploytools applies manifests and patches Deployments there only."
  type        = list(string)
  default     = ["default"]
}

variable "deploy_access_policy" {
  description = "EKS access policy of the deploy role in those namespaces (`AmazonEKSEditPolicy` patches Deployments without touching RBAC)."
  type        = string
  default     = "AmazonEKSEditPolicy"
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the roles."
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the control plane logs in days."
  type        = number
  default     = 365
}

variable "log_kms_key_arn" {
  description = "KMS key ARN for the log group. Null uses CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

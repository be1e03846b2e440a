variable "create" {
  description = "Whether to create any resource."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the service; also the task definition family, the IAM role prefix and (by default) the container and cluster name."
  type        = string
}

variable "create_cluster" {
  description = "Whether to create the ECS cluster (with Container Insights). If false, pass `cluster_arn`."
  type        = bool
  default     = true
}

variable "cluster_name" {
  description = "Name of the cluster to create. Defaults to `name`."
  type        = string
  default     = null
}

variable "cluster_arn" {
  description = "ARN of an existing cluster, used when `create_cluster` is false."
  type        = string
  default     = null
}

variable "deploytools_images" {
  description = "Map of image name to `repository@digest`, as deploytools passes it in `TF_VAR_deploytools_images`. Only the first image comes from here; later deploys are deploytools' job."
  type        = map(string)
  default     = {}
}

variable "image_key" {
  description = "Key of `deploytools_images` that holds this service's image (the image name in deploytools.yml)."
  type        = string
  default     = ""
}

variable "image" {
  description = "Image used when `deploytools_images` has no `image_key` entry, e.g. a bootstrap image."
  type        = string
  default     = null
}

variable "ecr_repository_arns" {
  description = "ECR repositories the execution role may pull from. The repository named by the image is added automatically."
  type        = list(string)
  default     = []
}

variable "container_name" {
  description = "Name of the container. Defaults to `name`; deploytools' `targets.<name>.container` must match."
  type        = string
  default     = null
}

variable "container_port" {
  description = "Port the container listens on. Null for a worker without a port."
  type        = number
  default     = 8080
}

variable "command" {
  description = "Command override for the container. Null uses the image's CMD."
  type        = list(string)
  default     = null
}

variable "cpu" {
  description = "Task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory in MiB, valid for the chosen `cpu`."
  type        = number
  default     = 512
}

variable "cpu_architecture" {
  description = "`X86_64` (the default: images are built for linux/amd64) or `ARM64`."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "readonly_root_filesystem" {
  description = "Whether the container's root filesystem is read-only."
  type        = bool
  default     = true
}

variable "environment" {
  description = "Plain environment variables for the container. Never secrets: use `secrets`."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secret environment variables: name to SSM parameter ARN (e.g. `module.ssm.parameter_arns`). They reach the container as `secrets[].valueFrom`; the execution role may read exactly these."
  type        = map(string)
  default     = {}
}

variable "kms_key_arns" {
  description = "KMS keys that encrypt the `secrets` parameters; the execution role may decrypt with them through SSM only."
  type        = list(string)
  default     = []
}

variable "attach_task_role_policy" {
  description = "Whether to attach `task_role_policy_json` to the task role (a switch, because the JSON is often unknown until apply)."
  type        = bool
  default     = false
}

variable "task_role_policy_json" {
  description = "IAM policy (JSON) for what the application calls; attached when `attach_task_role_policy` is true. Without it the task role has no permissions."
  type        = string
  default     = null
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for both roles."
  type        = string
  default     = null
}

variable "desired_count" {
  description = "Number of tasks."
  type        = number
  default     = 1
}

variable "platform_version" {
  description = "Fargate platform version."
  type        = string
  default     = "LATEST"
}

variable "deployment_minimum_healthy_percent" {
  description = "Lower limit of running tasks during a deployment, in percent of `desired_count`."
  type        = number
  default     = 100
}

variable "deployment_maximum_percent" {
  description = "Upper limit of running tasks during a deployment, in percent of `desired_count`."
  type        = number
  default     = 200
}

variable "subnet_ids" {
  description = "Subnets for the tasks (private subnets with a NAT or VPC endpoints for ECR, logs and SSM)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the tasks."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Whether tasks get a public IP (only for public subnets without NAT)."
  type        = bool
  default     = false
}

variable "load_balancers" {
  description = "Target groups the service registers with. `container_port` defaults to the service's."
  type = list(object({
    target_group_arn = string
    container_port   = optional(number)
  }))
  default = []
}

variable "health_check_grace_period_seconds" {
  description = "Seconds the scheduler ignores load balancer health checks after a task starts. Must be at least 60 when `load_balancers` is set (model loading)."
  type        = number
  default     = 120
}

variable "enable_execute_command" {
  description = "Whether ECS Exec is enabled."
  type        = bool
  default     = false
}

variable "enable_ecs_managed_tags" {
  description = "Whether ECS tags tasks with the cluster and service names."
  type        = bool
  default     = true
}

variable "wait_for_steady_state" {
  description = "Whether `terraform apply` waits for the service to reach a steady state."
  type        = bool
  default     = false
}

variable "log_group_name" {
  description = "CloudWatch log group name. Defaults to `/ecs/{name}`."
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Log retention in days."
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

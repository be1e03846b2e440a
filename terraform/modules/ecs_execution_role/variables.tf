variable "create" {
  description = "Whether to create the role."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the role, e.g. `shop-dev-api-execution`."
  type        = string
}

variable "description" {
  description = "Description of the role."
  type        = string
  default     = "Task execution role: image pull, logs, SSM secrets"
}

variable "ecr_repository_arns" {
  description = "ECR repositories the task's images come from (pull only)."
  type        = list(string)
  default     = []
}

variable "log_group_arn" {
  description = "ARN of the CloudWatch log group the awslogs driver writes to."
  type        = string
}

variable "secret_arns" {
  description = "SSM parameter ARNs the task definition references as `secrets: valueFrom`."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "Customer KMS keys of those parameters (decrypt via SSM only). Empty for the AWS managed key."
  type        = list(string)
  default     = []
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the role, if the account requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}

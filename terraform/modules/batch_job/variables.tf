variable "create" {
  description = "Whether to create any resource."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the job definition (deploytools `targets.<name>.job_definition`); also the IAM role prefix."
  type        = string
}

variable "platform" {
  description = "`FARGATE` or `EC2` (for GPUs or more than 120 GiB of memory)."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "EC2"], var.platform)
    error_message = "platform must be FARGATE or EC2."
  }
}

variable "deploytools_images" {
  description = "Map of image name to `repository@digest`, as deploytools passes it in `TF_VAR_deploytools_images`."
  type        = map(string)
  default     = {}
}

variable "image_key" {
  description = "Key of `deploytools_images` that holds the training image."
  type        = string
  default     = ""
}

variable "image" {
  description = "Image used when `deploytools_images` has no `image_key` entry."
  type        = string
  default     = null
}

variable "ecr_repository_arns" {
  description = "ECR repositories the execution role may pull from. The repository named by the image is added automatically."
  type        = list(string)
  default     = []
}

variable "command" {
  description = "Command of the container. Null uses the image's CMD."
  type        = list(string)
  default     = null
}

variable "vcpu" {
  description = "vCPUs (Fargate: 0.25, 0.5, 1, 2, 4, 8, 16)."
  type        = number
  default     = 2
}

variable "memory" {
  description = "Memory in MiB, valid for the chosen `vcpu` on Fargate."
  type        = number
  default     = 8192
}

variable "gpu" {
  description = "GPUs (EC2 platform only). Null for none."
  type        = number
  default     = null
}

variable "cpu_architecture" {
  description = "`X86_64` (the default; images are built for linux/amd64) or `ARM64` (Fargate only)."
  type        = string
  default     = "X86_64"
}

variable "ephemeral_storage_gib" {
  description = "Ephemeral storage in GiB on Fargate (21 to 200)."
  type        = number
  default     = 21
}

variable "readonly_root_filesystem" {
  description = "Whether the container's root filesystem is read-only."
  type        = bool
  default     = false
}

variable "assign_public_ip" {
  description = "Whether Fargate jobs get a public IP (only for public subnets without NAT)."
  type        = bool
  default     = false
}

variable "environment" {
  description = "Plain environment variables for the training container (defaults; a submitted job overrides them with containerOverrides)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secret environment variables: name to SSM parameter ARN, passed as `secrets[].valueFrom`."
  type        = map(string)
  default     = {}
}

variable "kms_key_arns" {
  description = "KMS keys of the `secrets` parameters; the execution role may decrypt through SSM only."
  type        = list(string)
  default     = []
}

variable "s3_read_arns" {
  description = "Object ARNs (with `/*` or a prefix) the job may read, e.g. the datasets."
  type        = list(string)
  default     = []
}

variable "s3_list_bucket_arns" {
  description = "Bucket ARNs the job may list."
  type        = list(string)
  default     = []
}

variable "s3_write_arns" {
  description = "Object ARNs (with a prefix) the job may write, e.g. `arn:aws:s3:::bucket/models/*`."
  type        = list(string)
  default     = []
}

variable "s3_kms_key_arns" {
  description = "KMS keys of SSE-KMS buckets the job reads or writes."
  type        = list(string)
  default     = []
}

variable "dynamodb_table_arns" {
  description = "DynamoDB tables whose items the job may get and update (e.g. job status)."
  type        = list(string)
  default     = []
}

variable "attach_policy_json" {
  description = "Whether to merge `policy_json` into the job role's policy (a switch, because the JSON is often unknown until apply)."
  type        = bool
  default     = false
}

variable "policy_json" {
  description = "Further IAM policy (JSON) for the job role, merged with the statements above when `attach_policy_json` is true."
  type        = string
  default     = null
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for both roles."
  type        = string
  default     = null
}

variable "retry_attempts" {
  description = "Attempts per job (1 to 10); only host failures are retried."
  type        = number
  default     = 2
}

variable "timeout_seconds" {
  description = "Time limit of one attempt in seconds (at least 60)."
  type        = number
  default     = 14400

  validation {
    condition     = var.timeout_seconds >= 60
    error_message = "timeout_seconds must be at least 60."
  }
}

variable "log_group_name" {
  description = "CloudWatch log group. Defaults to `/aws/batch/{name}`."
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

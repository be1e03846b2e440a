variable "create" {
  description = "Whether to create any resource."
  type        = bool
  default     = true
}

variable "function_name" {
  description = "Name of the Lambda function, e.g. `tastetrend-dev-predict`."
  type        = string
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = null
}

variable "package_type" {
  description = "`Image` (a container image from ECR) or `Zip`."
  type        = string
  default     = "Image"

  validation {
    condition     = contains(["Image", "Zip"], var.package_type)
    error_message = "package_type must be Image or Zip."
  }
}

variable "deploytools_images" {
  description = "Map of image name to `repository@digest`, as deploytools passes it in `TF_VAR_deploytools_images`. Only the first image comes from here; later deploys are deploytools' job."
  type        = map(string)
  default     = {}
}

variable "image_key" {
  description = "Key of `deploytools_images` that holds this function's image (`Image` only)."
  type        = string
  default     = ""
}

variable "image_uri" {
  description = "Image used when `deploytools_images` has no `image_key` entry (`Image` only). A single-platform linux/amd64 manifest, as Lambda requires."
  type        = string
  default     = null
}

variable "image_config" {
  description = "Overrides of the image's CMD, ENTRYPOINT and WORKDIR (`Image` only)."
  type = object({
    command           = optional(list(string))
    entry_point       = optional(list(string))
    working_directory = optional(string)
  })
  default = null
}

variable "filename" {
  description = "Path of the zip deploytools built (`Zip` only; deterministic, tests, caches and training code excluded)."
  type        = string
  default     = null
}

variable "source_code_hash" {
  description = "Base64-encoded SHA-256 of the zip at `filename` (or in S3), as `filebase64sha256` computes it."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Bucket that holds the zip, instead of `filename` (`Zip` only)."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "Key of the zip in `s3_bucket`."
  type        = string
  default     = null
}

variable "s3_object_version" {
  description = "Object version of the zip in `s3_bucket`."
  type        = string
  default     = null
}

variable "handler" {
  description = "Handler, e.g. `main.handler` (`Zip` only)."
  type        = string
  default     = null
}

variable "runtime" {
  description = "Runtime, e.g. `python3.12` (`Zip` only)."
  type        = string
  default     = null
}

variable "architectures" {
  description = "Instruction set: `[\"x86_64\"]` (the default; images are built for linux/amd64) or `[\"arm64\"]`."
  type        = list(string)
  default     = ["x86_64"]
}

variable "memory_size" {
  description = "Memory in MB (128 to 10240). Model loading needs more, e.g. 2048."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds (1 to 900), e.g. 300 for a cold model load. Behind API Gateway a request still ends at 29 s: warm the function first."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "ephemeral_storage_size" {
  description = "Size of /tmp in MB (512 to 10240)."
  type        = number
  default     = 512
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 for none (unreserved account concurrency)."
  type        = number
  default     = -1
}

variable "environment" {
  description = "Plain environment variables the function is created with. Never secrets: let the function read them from SSM (`ssm_parameter_arns`). After creation deploytools owns the environment: it merges the target's `environment:` of deploytools.yml (where `{tf.<output>}` values resolve) at each deploy, and Terraform ignores later changes here."
  type        = map(string)
  default     = {}
}

variable "ssm_parameter_arns" {
  description = "SSM parameter ARNs the function may read (GetParameter(s), GetParametersByPath), e.g. `module.ssm.path_arn` and that ARN followed by `/*`."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "KMS keys of those parameters; the role may decrypt with them through SSM only."
  type        = list(string)
  default     = []
}

variable "attach_policy_json" {
  description = "Whether to merge `policy_json` into the role policy (a switch, because the JSON is often unknown until apply)."
  type        = bool
  default     = false
}

variable "policy_json" {
  description = "Additional IAM policy (JSON) for what the function calls, merged into its role policy when `attach_policy_json` is true."
  type        = string
  default     = null
}

variable "role_name" {
  description = "Name of the execution role. Defaults to `function_name`."
  type        = string
  default     = null
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the execution role."
  type        = string
  default     = null
}

variable "publish" {
  description = "Whether creating the function publishes version 1 (the alias needs a version)."
  type        = bool
  default     = true
}

variable "create_alias" {
  description = "Whether to create the alias deploytools moves after each deploy."
  type        = bool
  default     = true
}

variable "alias_name" {
  description = "Name of the alias (deploytools `targets.<name>.alias`)."
  type        = string
  default     = "live"
}

variable "subnet_ids" {
  description = "Subnets to run in. Empty runs outside a VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups when `subnet_ids` is set."
  type        = list(string)
  default     = []
}

variable "dead_letter_target_arn" {
  description = "SQS queue or SNS topic ARN for failed asynchronous invocations."
  type        = string
  default     = null
}

variable "tracing_mode" {
  description = "X-Ray tracing: `PassThrough` or `Active`."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN that encrypts the environment variables. Null uses the AWS managed key."
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

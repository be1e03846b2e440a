variable "create" {
  description = "Whether to create the parameters (and the KMS key)."
  type        = bool
  default     = true
}

variable "path" {
  description = "Path prefix, with leading and trailing `/`, e.g. `/tastetrend/dev/`. A parameter's name is the path plus its key, and the key is the environment variable name the app reads."
  type        = string

  validation {
    condition     = startswith(var.path, "/") && endswith(var.path, "/")
    error_message = "path must start and end with \"/\", e.g. \"/tastetrend/dev/\"."
  }
}

variable "parameters" {
  description = "Parameters to create, keyed by environment variable name (e.g. `API_KEY`). `type` defaults to `SecureString`."
  type = map(object({
    description = optional(string)
    type        = optional(string, "SecureString")
    tier        = optional(string, "Standard")
  }))
  default = {}

  validation {
    condition     = alltrue([for p in values(var.parameters) : contains(["String", "StringList", "SecureString"], p.type)])
    error_message = "Each parameter's type must be String, StringList or SecureString."
  }

  validation {
    condition     = alltrue([for k in keys(var.parameters) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "Each parameter key must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)."
  }
}

variable "create_parameters" {
  description = "Whether Terraform creates the parameters. False references parameters put out of band (deploytools requires secrets to exist before a deploy changes anything): nothing but the optional KMS key is created, and the outputs still give each parameter's name and ARN."
  type        = bool
  default     = true
}

variable "values" {
  description = "Initial values, keyed like `parameters`. Keys without a value get `placeholder_value`. Prefer leaving this empty and putting real values out of band: whatever Terraform writes also lands in its state."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "placeholder_value" {
  description = "Value written to parameters that have no entry in `values` (SSM rejects empty values)."
  type        = string
  default     = "unset"
}

variable "ignore_value_changes" {
  description = "If true (the default), Terraform only seeds each value and ignores later changes, so the real secret is owned outside Terraform. If false, Terraform writes `values` on every change."
  type        = bool
  default     = true
}

variable "create_kms_key" {
  description = "Whether to create a customer managed KMS key (with rotation) for the SecureString parameters. If false, pass `kms_key_arn`, or leave it null for the AWS managed `alias/aws/ssm` key."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for SecureString parameters, used when `create_kms_key` is false."
  type        = string
  default     = null
}

variable "kms_key_alias" {
  description = "Alias for the created key, e.g. `alias/tastetrend-dev-ssm`. Null creates no alias."
  type        = string
  default     = null
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before a destroyed key is deleted."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

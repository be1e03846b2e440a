variable "create" {
  description = "Whether to create the buckets."
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Prefix of every bucket name, e.g. `tastetrend-dev`; a bucket is named `{name_prefix}-{key}[-{name_suffix}]` unless it sets `name`."
  type        = string
}

variable "name_suffix" {
  description = "Optional suffix (e.g. the account ID) to make names globally unique."
  type        = string
  default     = ""
}

variable "buckets" {
  description = "Buckets keyed by purpose. Every bucket is versioned, encrypted, private and TLS-only; the lifecycle rule aborts incomplete uploads, expires noncurrent versions, and optionally transitions and expires current objects."
  type = map(object({
    name                                   = optional(string)
    expiration_days                        = optional(number)
    transition_to_ia_days                  = optional(number)
    noncurrent_version_expiration_days     = optional(number, 30)
    abort_incomplete_multipart_upload_days = optional(number, 7)
  }))
  default = {
    raw       = { expiration_days = 365, transition_to_ia_days = 30 }
    processed = { transition_to_ia_days = 90 }
    artifacts = { noncurrent_version_expiration_days = 90 }
  }

  validation {
    condition = alltrue([
      for b in values(var.buckets) : b.transition_to_ia_days == null ? true : b.transition_to_ia_days >= 30
    ])
    error_message = "transition_to_ia_days must be at least 30 (the S3 minimum for STANDARD_IA)."
  }

  validation {
    condition = alltrue([
      for b in values(var.buckets) : b.expiration_days == null || b.transition_to_ia_days == null ? true : b.expiration_days > b.transition_to_ia_days
    ])
    error_message = "expiration_days must be greater than transition_to_ia_days."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for SSE-KMS (with an S3 bucket key). Null uses SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "logging_bucket" {
  description = "Name of an existing bucket that receives server access logs. Null disables access logging."
  type        = string
  default     = null
}

variable "enforce_tls" {
  description = "Whether each bucket's policy denies requests without TLS (aws:SecureTransport). Turn off only for a plain-HTTP emulator: moto enforces bucket policies."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Whether `terraform destroy` empties non-empty buckets. Keep false outside sandboxes."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every bucket; each bucket also gets `Purpose = <key>`."
  type        = map(string)
  default     = {}
}

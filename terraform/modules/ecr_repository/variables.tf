variable "create" {
  description = "Whether to create the repository (and its lifecycle policy)."
  type        = bool
  default     = true
}

variable "manage_repository" {
  description = "Whether Terraform owns the repository. False when deploytools' images step creates it (it runs before Terraform, so the first push has somewhere to go): the module then only attaches the lifecycle policy and reports the repository's name, ARN and URL."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the ECR repository, e.g. `tastetrend-api`."
  type        = string
}

variable "image_tag_mutability" {
  description = "`IMMUTABLE` (the default: a tag always names the same image, so deploy by tag or digest is safe) or `MUTABLE`."
  type        = string
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["IMMUTABLE", "MUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be IMMUTABLE or MUTABLE."
  }
}

variable "scan_on_push" {
  description = "Whether ECR scans each image for vulnerabilities when it is pushed."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a KMS key to encrypt images with (encryption type `KMS`). Null uses `AES256`."
  type        = string
  default     = null
}

variable "force_delete" {
  description = "Whether `terraform destroy` deletes the repository even if it still holds images."
  type        = bool
  default     = false
}

variable "create_lifecycle_policy" {
  description = "Whether to attach the lifecycle policy that expires untagged images (and optionally caps the image count)."
  type        = bool
  default     = true
}

variable "untagged_image_expiry_days" {
  description = "Untagged images (left behind by re-pushes and multi-step builds) expire this many days after push."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_expiry_days >= 1
    error_message = "untagged_image_expiry_days must be at least 1."
  }
}

variable "max_image_count" {
  description = "If set, keep only this many most recent images of any tag status. Null keeps every tagged image (rollbacks need old digests)."
  type        = number
  default     = null

  validation {
    condition     = var.max_image_count == null ? true : var.max_image_count >= 1
    error_message = "max_image_count must be null or at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

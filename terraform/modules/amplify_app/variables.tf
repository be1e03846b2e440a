variable "create" {
  description = "Whether to create any resource. Envs set this false in the sandbox: moto has no Amplify."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the app (deploytools `frontend.amplify.app`)."
  type        = string
}

variable "repository" {
  description = "URL of the Git repository, e.g. `https://github.com/acme/tastetrend`."
  type        = string
}

variable "access_token" {
  description = "GitHub token that connects the repository on creation (only read once; later changes are ignored)."
  type        = string
  default     = null
  sensitive   = true
}

variable "app_root" {
  description = "Directory of the Next.js app in the monorepo, e.g. `frontend`; becomes `AMPLIFY_MONOREPO_APP_ROOT` and must equal `appRoot` in the build spec."
  type        = string

  validation {
    condition     = !startswith(var.app_root, "/") && !endswith(var.app_root, "/")
    error_message = "app_root is relative to the repository root, without leading or trailing slashes."
  }
}

variable "build_spec_path" {
  description = "Path of the build spec file (the repository's `amplify.yml`)."
  type        = string
  default     = null
}

variable "build_spec" {
  description = "Build spec content, instead of `build_spec_path`."
  type        = string
  default     = null
}

variable "environment_variables" {
  description = "App environment variables (e.g. `NEXT_PUBLIC_API_URL`). `AMPLIFY_MONOREPO_APP_ROOT` is set from `app_root`."
  type        = map(string)
  default     = {}
}

variable "branch" {
  description = "Branch to deploy (deploytools `frontend.amplify.branch`)."
  type        = string
  default     = "main"
}

variable "stage" {
  description = "Stage of the branch: `PRODUCTION`, `BETA`, `DEVELOPMENT`, `EXPERIMENTAL` or `PULL_REQUEST`."
  type        = string
  default     = "PRODUCTION"
}

variable "branch_environment_variables" {
  description = "Environment variables of the branch only."
  type        = map(string)
  default     = {}
}

variable "create_service_role" {
  description = "Whether to create the service role (SSR logs to CloudWatch). If false, pass `service_role_arn` or none."
  type        = bool
  default     = true
}

variable "service_role_arn" {
  description = "Existing service role, when `create_service_role` is false."
  type        = string
  default     = null
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the service role."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

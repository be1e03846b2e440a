variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "project" {
  description = "Project name; resources are named {project}-{env}-{name}."
  type        = string
  default     = "automl-lite"
}

variable "deploytools_env" {
  description = "Environment name (dev, prod, ...), passed by deploytools as TF_VAR_deploytools_env."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,15}$", var.deploytools_env))
    error_message = "deploytools_env must be lower-case letters, digits and dashes (at most 16)."
  }
}

variable "deploytools_images" {
  description = "Image name to repository@digest, passed by deploytools as TF_VAR_deploytools_images (JSON). Only the first deploy takes images from here."
  type        = map(string)
  default     = {}
}

variable "deploytools_sandbox" {
  description = "True when applied against deploytools' sandbox (moto): turns off what moto lacks and uses path-style S3. Endpoints come from AWS_ENDPOINT_URL."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "github_repository" {
  description = "owner/name of the app's repository. Set it to create the GitHub OIDC deploy role for this environment; null creates none."
  type        = string
  default     = null
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's existing GitHub OIDC provider. Null creates it (an account holds one)."
  type        = string
  default     = null
}

variable "deploytools_packages" {
  description = "Lambda zips deploytools built (deterministic, excludes applied), passed as TF_VAR_deploytools_packages (JSON): package name to {path, sha256} (sha256: base64-encoded SHA-256, as Lambda reports CodeSha256). Only the first deploy takes code from here."
  type = map(object({
    path   = string
    sha256 = string
  }))
  default = {}
}

variable "secrets" {
  description = "Names of the secrets read from SSM under /{project}/{env}/ (by the API and the training job)."
  type        = list(string)
  default     = ["JWT_SECRET"]
}

variable "subnet_ids" {
  description = "Subnets of the training jobs (private, with a NAT or VPC endpoints). Empty uses the default VPC's subnets."
  type        = list(string)
  default     = []
}

variable "training_max_vcpus" {
  description = "Upper limit of vCPUs the training compute environment runs at once."
  type        = number
  default     = 16
}

variable "frontend_repository" {
  description = "URL of the Git repository holding the Next.js frontend, e.g. `https://github.com/acme/automl-lite`."
  type        = string
  default     = "https://github.com/acme/automl-lite"
}

variable "frontend_branch" {
  description = "Branch Amplify deploys."
  type        = string
  default     = "main"
}

variable "frontend_app_root" {
  description = "Directory of the Next.js app in the monorepo (AMPLIFY_MONOREPO_APP_ROOT; equals appRoot in amplify.yml)."
  type        = string
  default     = "frontend"
}

variable "amplify_build_spec_path" {
  description = "Path of amplify.yml. Null uses the repository root's amplify.yml (three levels above this directory)."
  type        = string
  default     = null
}

variable "amplify_access_token" {
  description = "GitHub token Amplify uses to connect the repository on creation."
  type        = string
  default     = null
  sensitive   = true
}

variable "manage_secret_parameters" {
  description = "Whether Terraform creates the secret parameters (seeded with a placeholder, value then ignored) and a KMS key for them. False (the default) references parameters put out of band: deploytools requires them before a deploy changes anything, and the sandbox seeds them."
  type        = bool
  default     = false
}

variable "secrets_kms_key_arn" {
  description = "KMS key of the secret parameters when Terraform does not create it. Null for the AWS managed key alias/aws/ssm."
  type        = string
  default     = null
}

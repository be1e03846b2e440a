variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "project" {
  description = "Project name; resources are named {project}-{env}-{name}."
  type        = string
  default     = "nlp-serving"
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

variable "subnet_ids" {
  description = "Subnets of the EKS cluster (two or more Availability Zones). Empty uses the default VPC's subnets."
  type        = list(string)
  default     = []
}

variable "kubernetes_version" {
  description = "Kubernetes version of the cluster."
  type        = string
  default     = "1.31"
}

variable "deploy_namespaces" {
  description = "Namespaces the deploy role may change (deploytools applies k8s/*.yaml there)."
  type        = list(string)
  default     = ["default"]
}

variable "secrets" {
  description = "Names of the secrets read from SSM under /{project}/{env}/ (replacing the .env file once copied by hand)."
  type        = list(string)
  default     = ["HF_API_TOKEN"]
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

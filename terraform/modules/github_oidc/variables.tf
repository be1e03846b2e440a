variable "create" {
  description = "Whether to create any resource."
  type        = bool
  default     = true
}

variable "create_provider" {
  description = "Whether to create the account's GitHub OIDC provider. An account has at most one; if it exists, set false and pass `provider_arn`."
  type        = bool
  default     = true
}

variable "provider_arn" {
  description = "ARN of an existing GitHub OIDC provider, used when `create_provider` is false."
  type        = string
  default     = null
}

variable "thumbprints" {
  description = "Certificate thumbprints of token.actions.githubusercontent.com. AWS no longer checks them for GitHub, but the API still requires one."
  type        = list(string)
  default     = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

variable "repository" {
  description = "The one repository allowed to assume the role, as `owner/name`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be \"owner/name\" without wildcards."
  }
}

variable "branches" {
  description = "Branches whose workflows may assume the role (push to deploy), e.g. `[\"main\"]`."
  type        = list(string)
  default     = ["main"]
}

variable "environments" {
  description = "GitHub environments whose jobs may assume the role (a job with `environment:` presents this subject instead of the branch), e.g. `[\"prod\"]`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.environments : !strcontains(e, "*")])
    error_message = "environments must be exact names, without wildcards."
  }
}

variable "role_name" {
  description = "Name of the deploy role."
  type        = string
}

variable "max_session_duration" {
  description = "Maximum session length in seconds."
  type        = number
  default     = 3600
}

variable "permissions_boundary" {
  description = "ARN of a permissions boundary for the role."
  type        = string
  default     = null
}

variable "ecr_repository_arns" {
  description = "ECR repositories the role may push to and read."
  type        = list(string)
  default     = []
}

variable "ecr_create_repository_prefix" {
  description = "If set, the role may also create repositories whose names start with this prefix (deploytools `create_repository: true`) and push to them, e.g. `tastetrend-`."
  type        = string
  default     = null
}

variable "ecs_service_arns" {
  description = "ECS services the role may update (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`)."
  type        = list(string)
  default     = []
}

variable "pass_role_arns" {
  description = "Task and execution roles the role may pass to ECS tasks when it registers task definitions (and Batch job definitions, which run as ECS tasks)."
  type        = list(string)
  default     = []
}

variable "pass_role_services" {
  description = "Services `pass_role_arns` may be passed to (the `iam:PassedToService` condition). Add `batch.amazonaws.com` when the roles belong to Batch job definitions."
  type        = list(string)
  default     = ["ecs-tasks.amazonaws.com"]
}

variable "lambda_function_arns" {
  description = "Lambda functions (unqualified ARNs) whose code, versions and aliases the role may update."
  type        = list(string)
  default     = []
}

variable "lambda_code_bucket_arns" {
  description = "Buckets the role may upload Lambda zips to, under `lambda_code_prefix`."
  type        = list(string)
  default     = []
}

variable "lambda_code_prefix" {
  description = "Key prefix of Lambda zips in `lambda_code_bucket_arns`."
  type        = string
  default     = "lambda/"
}

variable "eks_cluster_arns" {
  description = "EKS clusters the role may describe. What it may do inside Kubernetes comes from the cluster's access entry (see the eks_cluster module)."
  type        = list(string)
  default     = []
}

variable "batch_job_definition_names" {
  description = "Batch job definition names the role may register revisions of."
  type        = list(string)
  default     = []
}

variable "ssm_parameter_path" {
  description = "The one SSM path the role may read secrets under, e.g. `/tastetrend/dev/`."
  type        = string
  default     = null
}

variable "release_record_path" {
  description = "SSM path the role may write release records under, e.g. `/deploytools/tastetrend/dev/`."
  type        = string
  default     = null
}

variable "kms_key_arns" {
  description = "KMS keys of the SSM parameters; decrypt is allowed through SSM only."
  type        = list(string)
  default     = []
}

variable "amplify_app_arn" {
  description = "The one Amplify app the role may update and start jobs on (`arn:aws:amplify:REGION:ACCOUNT:apps/APP_ID`)."
  type        = string
  default     = null
}

variable "additional_policy_arns" {
  description = "Managed policies to attach as well, e.g. a separate Terraform-apply policy if this role also runs Terraform."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "create_plan_role" {
  description = "Create the read-only plan role for pull requests (deploytools plan, terraform plan)."
  type        = bool
  default     = true
}

variable "plan_role_name" {
  description = "Name of the plan role."
  type        = string
  default     = "deploytools-plan"
}

variable "plan_subjects_pull_request" {
  description = "Trust the plan role for pull_request runs (sub repo:OWNER/NAME:pull_request)."
  type        = bool
  default     = true
}

variable "terraform_state_bucket_arn" {
  description = "ARN of the S3 bucket holding the Terraform state the plan role reads (null: none)."
  type        = string
  default     = null
}

variable "terraform_state_key_prefix" {
  description = "Key prefix of the state objects in terraform_state_bucket_arn; the plan role may write only the lock files (*.tflock) there."
  type        = string
  default     = ""
}

variable "terraform_lock_table_arn" {
  description = "ARN of a DynamoDB lock table for the state (null: S3 lock files or none)."
  type        = string
  default     = null
}

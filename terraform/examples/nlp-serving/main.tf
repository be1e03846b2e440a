provider "aws" {
  region = var.region

  # Endpoints come from the environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), which the
  # AWS provider 5.x honours; the sandbox needs path-style S3 on top. Nothing here weakens real use.
  s3_use_path_style = var.deploytools_sandbox
}

locals {
  name = "${var.project}-${var.deploytools_env}"
  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.deploytools_env
    ManagedBy   = "terraform"
  })
}

data "aws_vpc" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  default = true
}

data "aws_subnets" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default[0].id]
  }
}

locals {
  subnet_ids = length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids
}

module "ecr" {
  source = "../../modules/ecr_repository"

  manage_repository = false # deploytools creates it before Terraform runs (create_repository)
  for_each          = toset(["api", "predictor"])

  name         = "${var.project}-${each.key}" # deploytools default: {project}-{image}
  force_delete = var.deploytools_sandbox
  tags         = local.tags
}

module "ssm" {
  source = "../../modules/ssm_parameters"

  path              = "/${var.project}/${var.deploytools_env}/"
  parameters        = { for s in var.secrets : s => {} }
  create_parameters = var.manage_secret_parameters
  create_kms_key    = var.manage_secret_parameters
  kms_key_arn       = var.secrets_kms_key_arn
  kms_key_alias     = var.manage_secret_parameters ? "alias/${local.name}-ssm" : null
  tags              = local.tags
}

################################################################################
# EKS: cluster, node group, and the deploy role's access (workloads come from k8s/ manifests,
# applied by deploytools after the cluster and node group exist)
################################################################################

module "eks" {
  source = "../../modules/eks_cluster"

  name                = local.name
  kubernetes_version  = var.kubernetes_version
  subnet_ids          = local.subnet_ids
  node_instance_types = ["m5.xlarge"] # DistilBERT serving: 4 vCPU, 16 GiB
  node_desired_size   = 2

  # moto has no access entries and its node groups never plan clean: off in the sandbox.
  create_node_group          = !var.deploytools_sandbox
  manage_access_config       = !var.deploytools_sandbox
  create_deploy_access_entry = !var.deploytools_sandbox && var.github_repository != null
  deploy_role_arn            = module.github_oidc.role_arn
  deploy_namespaces          = var.deploy_namespaces
  tags                       = local.tags
}

################################################################################
# Lambda: the same model as a container image (provenance off, linux/amd64, warmed by deploytools)
################################################################################

module "predict" {
  source = "../../modules/lambda_function"

  function_name      = "${local.name}-predict"
  description        = "DistilBERT inference (container image)"
  package_type       = "Image"
  deploytools_images = var.deploytools_images
  image_key          = "predictor"
  memory_size        = 3008
  timeout            = 300
  alias_name         = "live"
  environment        = { SSM_PATH = module.ssm.path, HF_HOME = "/tmp/hf" }
  ssm_parameter_arns = [module.ssm.path_arn, "${module.ssm.path_arn}/*"]
  kms_key_arns       = module.ssm.kms_key_arns
  # moto echoes an empty ImageConfig that AWS omits.
  image_config = var.deploytools_sandbox ? { command = [], entry_point = [] } : null
  tags         = local.tags
}

module "github_oidc" {
  source = "../../modules/github_oidc"

  create          = var.github_repository != null
  create_provider = var.github_oidc_provider_arn == null
  provider_arn    = var.github_oidc_provider_arn
  role_name       = "${local.name}-deploy"
  repository      = coalesce(var.github_repository, "unset/unset")
  environments    = [var.deploytools_env]

  ecr_repository_arns  = [for r in module.ecr : r.repository_arn]
  eks_cluster_arns     = ["arn:${data.aws_partition.current.partition}:eks:${var.region}:${data.aws_caller_identity.current.account_id}:cluster/${local.name}"]
  lambda_function_arns = [module.predict.function_arn]
  ssm_parameter_path   = module.ssm.path
  kms_key_arns         = module.ssm.kms_key_arns
  release_record_path  = "/deploytools/${var.project}/${var.deploytools_env}/"
  tags                 = local.tags
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

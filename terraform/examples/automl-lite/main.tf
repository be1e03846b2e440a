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

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  api_package        = lookup(var.deploytools_packages, "api", null)
  job_definition_arn = "arn:${data.aws_partition.current.partition}:batch:${var.region}:${data.aws_caller_identity.current.account_id}:job-definition/${local.name}-training"
}

module "buckets" {
  source = "../../modules/buckets"

  name_prefix   = local.name
  force_destroy = var.deploytools_sandbox
  enforce_tls   = !var.deploytools_sandbox # moto serves plain HTTP and enforces bucket policies
  buckets = {
    raw       = { expiration_days = 90 }                                                # uploaded datasets
    processed = { transition_to_ia_days = 30, expiration_days = 180 }                   # cleaned datasets, reports
    artifacts = { transition_to_ia_days = 90, noncurrent_version_expiration_days = 30 } # trained models
  }
  tags = local.tags
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

module "ecr_trainer" {
  source = "../../modules/ecr_repository"

  manage_repository = false                    # deploytools creates it before Terraform runs (create_repository)
  name              = "${var.project}-trainer" # deploytools default: {project}-{image}
  force_delete      = var.deploytools_sandbox
  tags              = local.tags
}

################################################################################
# Training: Batch job definition; the role reads datasets and writes models, nothing else
################################################################################

module "training" {
  source = "../../modules/batch_job"

  name               = "${local.name}-training"
  deploytools_images = var.deploytools_images
  image_key          = "trainer"
  vcpu               = 4
  memory             = 16384
  timeout_seconds    = 3 * 3600
  # Defaults of the training container; the API passes per-job values (JOB_ID, DATASET_ID,
  # TARGET_COLUMN) as containerOverrides.
  environment = {
    S3_BUCKET_DATASETS = module.buckets.bucket_names["raw"]
    S3_BUCKET_RESULTS  = module.buckets.bucket_names["artifacts"]
  }
  secrets      = module.ssm.parameter_arns
  kms_key_arns = module.ssm.kms_key_arns

  s3_read_arns        = ["${module.buckets.bucket_arns["raw"]}/*"]
  s3_list_bucket_arns = [module.buckets.bucket_arns["raw"]]
  s3_write_arns       = ["${module.buckets.bucket_arns["artifacts"]}/models/*", "${module.buckets.bucket_arns["processed"]}/reports/*"]
  tags                = local.tags
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

data "aws_subnet" "first" {
  id = local.subnet_ids[0]
}

locals {
  subnet_ids = length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids
}

resource "aws_security_group" "training" {
  name        = "${local.name}-training"
  description = "Training jobs of ${local.name}: outbound HTTPS only"
  vpc_id      = data.aws_subnet.first.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_egress_rule" "training" {
  security_group_id = aws_security_group.training.id
  description       = "HTTPS to ECR, S3, SSM and CloudWatch Logs"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

data "aws_iam_policy_document" "batch_service_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["batch.amazonaws.com"]
    }
  }
}

# An explicit service role (AWS's managed AWSBatchServiceRole policy) rather than the
# service-linked one, which not every account (nor moto) has.
resource "aws_iam_role" "batch_service" {
  name               = "${local.name}-batch-service"
  description        = "AWS Batch service role of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.batch_service_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "batch_service" {
  role       = aws_iam_role.batch_service.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSBatchServiceRole"
}

# Batch runs training on Fargate.
resource "aws_batch_compute_environment" "training" {
  compute_environment_name = "${local.name}-training"
  type                     = "MANAGED"
  state                    = "ENABLED"
  service_role             = aws_iam_role.batch_service.arn

  compute_resources {
    type               = "FARGATE"
    max_vcpus          = var.training_max_vcpus
    subnets            = local.subnet_ids
    security_group_ids = [aws_security_group.training.id]
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy_attachment.batch_service]
}

resource "aws_batch_job_queue" "training" {
  name     = "${local.name}-training"
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.training.arn
  }

  tags = local.tags
}

################################################################################
# API: Lambda zip (deploytools builds it without training code, tests or caches)
################################################################################

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "Datasets"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${module.buckets.bucket_arns["raw"]}/*"]
  }

  statement {
    sid       = "Results"
    actions   = ["s3:GetObject"]
    resources = ["${module.buckets.bucket_arns["artifacts"]}/models/*", "${module.buckets.bucket_arns["processed"]}/reports/*"]
  }

  statement {
    sid       = "SubmitTraining"
    actions   = ["batch:SubmitJob"]
    resources = [aws_batch_job_queue.training.arn, "${local.job_definition_arn}:*", local.job_definition_arn]
  }

  statement {
    sid       = "TrackTraining"
    actions   = ["batch:DescribeJobs"]
    resources = ["*"] # DescribeJobs has no resource-level permissions; AWS requires "*".
  }
}

module "api" {
  source = "../../modules/lambda_function"

  function_name    = "${local.name}-api"
  description      = "AutoML Lite API"
  package_type     = "Zip"
  filename         = try(local.api_package.path, null)
  source_code_hash = try(local.api_package.sha256, null)
  handler          = "main.handler"
  runtime          = "python3.12"
  memory_size      = 512
  timeout          = 30
  alias_name       = "live"
  # The env cascade: these reach the API, which passes them on to each training job.
  environment = {
    S3_BUCKET_DATASETS   = module.buckets.bucket_names["raw"]
    S3_BUCKET_RESULTS    = module.buckets.bucket_names["artifacts"]
    BATCH_JOB_DEFINITION = module.training.job_definition_name
    BATCH_JOB_QUEUE      = aws_batch_job_queue.training.name
    SSM_PATH             = module.ssm.path
  }
  ssm_parameter_arns = [module.ssm.path_arn, "${module.ssm.path_arn}/*"]
  kms_key_arns       = module.ssm.kms_key_arns
  attach_policy_json = true
  policy_json        = data.aws_iam_policy_document.api.json
  tags               = local.tags
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${local.name}-api"
  protocol_type = "HTTP"
  description   = "AutoML Lite API"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = module.api.alias_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "api" {
  #checkov:skip=CKV_AWS_309:The API authenticates callers itself (API key from SSM); the proxy route has no authorizer.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch encrypts at rest by default; a customer key is not needed for access logs.
  name              = "/aws/apigateway/${local.name}-api"
  retention_in_days = 365
  tags              = local.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = jsonencode({ requestId = "$context.requestId", routeKey = "$context.routeKey", status = "$context.status", error = "$context.integrationErrorMessage" })
  }

  tags = local.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = module.api.function_name
  qualifier     = module.api.alias_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

################################################################################
# Frontend: Next.js SSR on Amplify (moto has no Amplify: off in the sandbox)
################################################################################

module "frontend" {
  source = "../../modules/amplify_app"

  create          = !var.deploytools_sandbox
  name            = "${local.name}-web"
  repository      = var.frontend_repository
  access_token    = var.amplify_access_token
  branch          = var.frontend_branch
  app_root        = var.frontend_app_root
  build_spec_path = coalesce(var.amplify_build_spec_path, "${path.root}/../../../amplify.yml")
  environment_variables = {
    NEXT_PUBLIC_API_URL = trimsuffix(aws_apigatewayv2_stage.this.invoke_url, "/")
  }
  tags = local.tags
}

module "github_oidc" {
  source = "../../modules/github_oidc"

  create          = var.github_repository != null
  create_provider = var.github_oidc_provider_arn == null
  provider_arn    = var.github_oidc_provider_arn
  role_name       = "${local.name}-deploy"
  repository      = coalesce(var.github_repository, "unset/unset")
  environments    = [var.deploytools_env]

  ecr_repository_arns        = [module.ecr_trainer.repository_arn]
  lambda_function_arns       = [module.api.function_arn]
  batch_job_definition_names = [module.training.job_definition_name]
  pass_role_arns             = [module.training.job_role_arn, module.training.execution_role_arn]
  pass_role_services         = ["ecs-tasks.amazonaws.com", "batch.amazonaws.com"]
  ssm_parameter_path         = module.ssm.path
  kms_key_arns               = module.ssm.kms_key_arns
  release_record_path        = "/deploytools/${var.project}/${var.deploytools_env}/"
  amplify_app_arn            = module.frontend.app_arn
  tags                       = local.tags
}

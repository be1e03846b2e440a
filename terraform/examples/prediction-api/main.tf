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

module "ecr" {
  source = "../../modules/ecr_repository"

  manage_repository = false                      # deploytools creates it before Terraform runs (create_repository)
  name              = "${var.project}-predictor" # deploytools default: {project}-{image}
  force_delete      = var.deploytools_sandbox
  tags              = local.tags
}

# The model loads on a cold start (~60 s): 2 GB and 300 s. API Gateway still ends a request at
# 29-30 s, so deploytools warms the alias with backoff before it takes traffic.
module "predict" {
  source = "../../modules/lambda_function"

  function_name      = "${local.name}-predict"
  description        = "ML prediction API (container image)"
  package_type       = "Image"
  deploytools_images = var.deploytools_images
  image_key          = "predictor"
  memory_size        = 2048
  timeout            = 300
  alias_name         = "live"
  environment        = { MODEL_DIR = "/var/task/models" }
  # moto echoes an empty ImageConfig that AWS omits.
  image_config = var.deploytools_sandbox ? { command = [], entry_point = [] } : null
  tags         = local.tags
}

################################################################################
# HTTP API -> alias "live"
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name          = "${local.name}-api"
  protocol_type = "HTTP"
  description   = "Prediction API"
  tags          = local.tags
}

resource "aws_apigatewayv2_integration" "predict" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = module.predict.alias_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "predict" {
  for_each = toset(["GET /health", "POST /predict"])

  #checkov:skip=CKV_AWS_309:A public prediction API; callers authenticate with an API key checked by the function.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.predict.id}"
}

resource "aws_cloudwatch_log_group" "api" {
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
    destination_arn = aws_cloudwatch_log_group.api.arn
    format          = jsonencode({ requestId = "$context.requestId", routeKey = "$context.routeKey", status = "$context.status", latency = "$context.integrationLatency", error = "$context.integrationErrorMessage" })
  }

  tags = local.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = module.predict.function_name
  qualifier     = module.predict.alias_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

################################################################################
# Deploy role (GitHub OIDC), when a repository is given
################################################################################

module "github_oidc" {
  source = "../../modules/github_oidc"

  create          = var.github_repository != null
  create_provider = var.github_oidc_provider_arn == null
  provider_arn    = var.github_oidc_provider_arn
  role_name       = "${local.name}-deploy"
  repository      = coalesce(var.github_repository, "unset/unset")
  environments    = [var.deploytools_env]

  ecr_repository_arns  = [module.ecr.repository_arn]
  lambda_function_arns = [module.predict.function_arn]
  release_record_path  = "/deploytools/${var.project}/${var.deploytools_env}/"
  tags                 = local.tags
}

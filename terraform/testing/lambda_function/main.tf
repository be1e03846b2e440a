# Harness: applies the module against moto. Endpoints come from AWS_ENDPOINT_URL.
provider "aws" {
  region            = var.region
  s3_use_path_style = true
}

data "aws_caller_identity" "current" {
  lifecycle {
    postcondition {
      condition     = self.account_id == var.expected_account_id
      error_message = "This harness only runs against moto (account ${var.expected_account_id}); set AWS_ENDPOINT_URL."
    }
  }
}

module "ssm" {
  source = "../../modules/ssm_parameters"

  path       = "/${var.name}/lambda/"
  parameters = { API_KEY = {} }
}

module "ecr" {
  source = "../../modules/ecr_repository"

  name         = "${var.name}-predictor"
  force_delete = true
}

# Image package: moto does not check that the image exists in its ECR unless MOTO_LAMBDA_STUB_ECR=false.
module "lambda_image" {
  source = "../../modules/lambda_function"

  function_name      = "${var.name}-predict"
  package_type       = "Image"
  deploytools_images = { predictor = "${module.ecr.repository_url}@sha256:${sha256("harness")}" }
  image_key          = "predictor"
  memory_size        = 2048
  # moto echoes an empty ImageConfig that AWS omits; declaring it empty keeps re-plans quiet.
  image_config       = { command = [], entry_point = [] }
  timeout            = 300
  environment        = { SSM_PATH = module.ssm.path }
  ssm_parameter_arns = [module.ssm.path_arn, "${module.ssm.path_arn}/*"]
  kms_key_arns       = [module.ssm.kms_key_arn]
}

# Zip package: the path and hash deploytools hands in (here a committed, deterministic zip).
module "lambda_zip" {
  source = "../../modules/lambda_function"

  function_name    = "${var.name}-etl"
  package_type     = "Zip"
  filename         = var.package_path != null ? var.package_path : "${path.module}/handler.zip"
  source_code_hash = filebase64sha256(var.package_path != null ? var.package_path : "${path.module}/handler.zip")
  handler          = "handler.handler"
  runtime          = "python3.12"
  alias_name       = "live"
}

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

locals {
  etl_package = lookup(var.deploytools_packages, "etl", null)
}

# raw: incoming data; processed: ETL output; artifacts: Lambda packages and other build outputs.
module "buckets" {
  source = "../../modules/buckets"

  name_prefix   = local.name
  force_destroy = var.deploytools_sandbox
  enforce_tls   = !var.deploytools_sandbox # moto serves plain HTTP and enforces bucket policies
  buckets = {
    raw       = { transition_to_ia_days = 30, expiration_days = 180 }
    processed = { transition_to_ia_days = 90 }
    artifacts = { noncurrent_version_expiration_days = 30 }
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

# The zip deploytools built goes to the artifacts bucket under its hash, so every package is a
# distinct, versioned object; the function is created from it once, then deploytools updates it.
resource "aws_s3_object" "etl_package" {
  count = local.etl_package == null ? 0 : 1

  bucket      = module.buckets.bucket_names["artifacts"]
  key         = "lambda/etl-${sha256(local.etl_package.sha256)}.zip"
  source      = local.etl_package.path
  source_hash = local.etl_package.sha256
  tags        = local.tags

  lifecycle {
    ignore_changes = [key, source, source_hash]
  }
}

# Least privilege: read raw, write processed, nothing on artifacts (Lambda itself fetches the code).
data "aws_iam_policy_document" "etl" {
  statement {
    sid       = "ReadRaw"
    actions   = ["s3:GetObject"]
    resources = ["${module.buckets.bucket_arns["raw"]}/*"]
  }

  statement {
    sid       = "ListRaw"
    actions   = ["s3:ListBucket"]
    resources = [module.buckets.bucket_arns["raw"]]
  }

  statement {
    sid       = "WriteProcessed"
    actions   = ["s3:PutObject"]
    resources = ["${module.buckets.bucket_arns["processed"]}/*"]
  }
}

module "etl" {
  source = "../../modules/lambda_function"

  function_name      = "${local.name}-etl"
  description        = "TasteTrend ETL: raw -> processed"
  package_type       = "Zip"
  s3_bucket          = local.etl_package == null ? null : aws_s3_object.etl_package[0].bucket
  s3_key             = local.etl_package == null ? null : aws_s3_object.etl_package[0].key
  s3_object_version  = local.etl_package == null ? null : aws_s3_object.etl_package[0].version_id
  source_code_hash   = local.etl_package == null ? null : local.etl_package.sha256
  handler            = var.etl_handler
  runtime            = "python3.12"
  memory_size        = 1024
  timeout            = 900
  publish            = true
  alias_name         = "live"
  environment        = { RAW_BUCKET = module.buckets.bucket_names["raw"], PROCESSED_BUCKET = module.buckets.bucket_names["processed"], SSM_PATH = module.ssm.path }
  ssm_parameter_arns = [module.ssm.path_arn, "${module.ssm.path_arn}/*"]
  kms_key_arns       = module.ssm.kms_key_arns
  attach_policy_json = true
  policy_json        = data.aws_iam_policy_document.etl.json
  tags               = local.tags
}

resource "aws_cloudwatch_event_rule" "etl" {
  count = var.schedule_expression == null ? 0 : 1

  name                = "${local.name}-etl"
  description         = "Scheduled ETL run"
  schedule_expression = var.schedule_expression
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "etl" {
  count = var.schedule_expression == null ? 0 : 1

  rule = aws_cloudwatch_event_rule.etl[0].name
  arn  = module.etl.alias_arn
}

resource "aws_lambda_permission" "schedule" {
  count = var.schedule_expression == null ? 0 : 1

  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.etl.function_name
  qualifier     = module.etl.alias_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.etl[0].arn
}

module "github_oidc" {
  source = "../../modules/github_oidc"

  create          = var.github_repository != null
  create_provider = var.github_oidc_provider_arn == null
  provider_arn    = var.github_oidc_provider_arn
  role_name       = "${local.name}-deploy"
  repository      = coalesce(var.github_repository, "unset/unset")
  environments    = [var.deploytools_env]

  lambda_function_arns    = [module.etl.function_arn]
  lambda_code_bucket_arns = [module.buckets.bucket_arns["artifacts"]]
  ssm_parameter_path      = module.ssm.path
  kms_key_arns            = module.ssm.kms_key_arns
  release_record_path     = "/deploytools/${var.project}/${var.deploytools_env}/"
  tags                    = local.tags
}

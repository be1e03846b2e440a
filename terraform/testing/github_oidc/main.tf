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

locals {
  arn_prefix = "arn:aws:%s:${var.region}:${data.aws_caller_identity.current.account_id}"
}

module "github_oidc" {
  source = "../../modules/github_oidc"

  role_name    = "${var.name}-deploy"
  repository   = "acme/tastetrend"
  branches     = ["main"]
  environments = ["prod"]

  ecr_repository_arns          = ["${format(local.arn_prefix, "ecr")}:repository/${var.name}-api"]
  ecr_create_repository_prefix = "${var.name}-"
  ecs_service_arns             = ["${format(local.arn_prefix, "ecs")}:service/${var.name}/${var.name}-api"]
  pass_role_arns               = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-api-task"]
  lambda_function_arns         = ["${format(local.arn_prefix, "lambda")}:function:${var.name}-predict"]
  eks_cluster_arns             = ["${format(local.arn_prefix, "eks")}:cluster/${var.name}"]
  batch_job_definition_names   = ["${var.name}-training"]
  ssm_parameter_path           = "/${var.name}/dev/"
  release_record_path          = "/deploytools/${var.name}/dev/"
  amplify_app_arn              = "${format(local.arn_prefix, "amplify")}:apps/d1234567890"
}

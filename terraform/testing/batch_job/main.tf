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

module "training_buckets" {
  source = "../../modules/buckets"

  name_prefix   = "${var.name}-batch"
  force_destroy = true
  buckets       = { datasets = {}, models = {} }
}

module "ssm" {
  source = "../../modules/ssm_parameters"

  path       = "/${var.name}/batch/"
  parameters = { WANDB_API_KEY = {} }
}

module "batch_job" {
  source = "../../modules/batch_job"

  name               = "${var.name}-training"
  deploytools_images = { trainer = "123456789012.dkr.ecr.${var.region}.amazonaws.com/${var.name}-trainer@sha256:${sha256("harness")}" }
  image_key          = "trainer"
  vcpu               = 2
  memory             = 4096
  environment        = { S3_BUCKET_DATASETS = module.training_buckets.bucket_names["datasets"] }
  secrets            = module.ssm.parameter_arns
  kms_key_arns       = [module.ssm.kms_key_arn]

  s3_read_arns        = ["${module.training_buckets.bucket_arns["datasets"]}/*"]
  s3_list_bucket_arns = [module.training_buckets.bucket_arns["datasets"]]
  s3_write_arns       = ["${module.training_buckets.bucket_arns["models"]}/models/*"]
}

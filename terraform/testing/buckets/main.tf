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

module "buckets" {
  source = "../../modules/buckets"

  name_prefix   = var.name
  name_suffix   = data.aws_caller_identity.current.account_id
  force_destroy = true
}

module "buckets_kms" {
  source = "../../modules/buckets"

  name_prefix   = "${var.name}-kms"
  kms_key_arn   = aws_kms_key.s3.arn
  force_destroy = true
  buckets = {
    lake = { expiration_days = 90 }
  }
}

resource "aws_kms_key" "s3" {
  #checkov:skip=CKV2_AWS_64:Test harness key for moto; the default key policy is enough there.
  description         = "harness: S3 encryption"
  enable_key_rotation = true
}

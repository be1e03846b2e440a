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

  path          = "/${var.name}/${data.aws_caller_identity.current.account_id}/"
  kms_key_alias = "alias/${var.name}-ssm"
  parameters = {
    API_KEY      = { description = "API key of the upstream service" }
    DATABASE_URL = {}
    LOG_LEVEL    = { type = "String" }
  }
  values = { LOG_LEVEL = "INFO" }
}

module "ssm_managed" {
  source = "../../modules/ssm_parameters"

  path                 = "/${var.name}/managed/"
  create_kms_key       = false
  ignore_value_changes = false
  parameters           = { MODEL_NAME = { type = "String" } }
  values               = { MODEL_NAME = "distilbert" }
}

# Reference mode: parameters put out of band (as deploytools requires before a deploy); only
# their names and ARNs come out, for valueFrom and IAM.
module "ssm_existing" {
  source = "../../modules/ssm_parameters"

  path              = "/${var.name}/existing/"
  create_parameters = false
  create_kms_key    = false
  parameters        = { WAREHOUSE_API_KEY = {} }
}

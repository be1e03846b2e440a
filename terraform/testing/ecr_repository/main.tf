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

module "ecr" {
  source = "../../modules/ecr_repository"

  name            = "${var.name}-api"
  force_delete    = true
  max_image_count = 50
  tags            = { Harness = "ecr_repository", Account = data.aws_caller_identity.current.account_id }
}

module "ecr_kms" {
  source = "../../modules/ecr_repository"

  name         = "${var.name}-trainer"
  force_delete = true
  kms_key_arn  = aws_kms_key.ecr.arn
}

resource "aws_kms_key" "ecr" {
  #checkov:skip=CKV2_AWS_64:Test harness key for moto; the default key policy is enough there.
  description         = "harness: ECR encryption"
  enable_key_rotation = true
}

# deploytools' images step creates the repository before Terraform runs (stand-in here); the
# module adopts it by name and must report the same ARN and URL that AWS gave it.
resource "aws_ecr_repository" "created_by_deploytools" {
  #checkov:skip=CKV_AWS_136:Harness stand-in for the repository deploytools creates with AES256.
  name                 = "${var.name}-adopted"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true

  image_scanning_configuration {
    scan_on_push = true
  }
}

module "ecr_adopted" {
  source = "../../modules/ecr_repository"

  name              = aws_ecr_repository.created_by_deploytools.name
  manage_repository = false
}

resource "terraform_data" "adopted_matches" {
  input = module.ecr_adopted.repository_arn

  lifecycle {
    precondition {
      condition = (module.ecr_adopted.repository_arn == aws_ecr_repository.created_by_deploytools.arn
      && module.ecr_adopted.repository_url == aws_ecr_repository.created_by_deploytools.repository_url)
      error_message = "The adopted repository's ARN/URL differ from the repository's own."
    }
  }
}

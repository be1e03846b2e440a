# An adopted repository (manage_repository = false) is named, not read: `plan` works on a fresh
# account before deploytools has created it.
data "aws_caller_identity" "current" {
  count = var.create && !var.manage_repository ? 1 : 0
}

data "aws_region" "current" {
  count = var.create && !var.manage_repository ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create && !var.manage_repository ? 1 : 0
}

locals {
  adopted = var.create && !var.manage_repository ? {
    arn         = "arn:${data.aws_partition.current[0].partition}:ecr:${data.aws_region.current[0].name}:${data.aws_caller_identity.current[0].account_id}:repository/${var.name}"
    url         = "${data.aws_caller_identity.current[0].account_id}.dkr.ecr.${data.aws_region.current[0].name}.${data.aws_partition.current[0].dns_suffix}/${var.name}"
    registry_id = data.aws_caller_identity.current[0].account_id
  } : null

  encryption_type = var.kms_key_arn == null ? "AES256" : "KMS"

  untagged_rule = {
    rulePriority = 1
    description  = "Expire untagged images ${var.untagged_image_expiry_days} days after push"
    selection = {
      tagStatus   = "untagged"
      countType   = "sinceImagePushed"
      countUnit   = "days"
      countNumber = var.untagged_image_expiry_days
    }
    action = { type = "expire" }
  }

  # A tagStatus "any" rule must carry the highest priority number of the policy.
  keep_last_rule = {
    rulePriority = 2
    description  = "Keep the ${coalesce(var.max_image_count, 0)} most recent images"
    selection = {
      tagStatus   = "any"
      countType   = "imageCountMoreThan"
      countNumber = coalesce(var.max_image_count, 0)
    }
    action = { type = "expire" }
  }

  lifecycle_rules = concat(
    [local.untagged_rule],
    var.max_image_count == null ? [] : [local.keep_last_rule],
  )
}

resource "aws_ecr_repository" "this" {
  count = var.create && var.manage_repository ? 1 : 0

  #checkov:skip=CKV_AWS_136:KMS is opt-in through kms_key_arn; the AES256 default avoids a customer key per repository.
  name                 = var.name
  image_tag_mutability = var.image_tag_mutability
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = var.scan_on_push
  }

  encryption_configuration {
    encryption_type = local.encryption_type
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  count = var.create && var.create_lifecycle_policy ? 1 : 0

  repository = var.manage_repository ? aws_ecr_repository.this[0].name : var.name
  policy     = jsonencode({ rules = local.lifecycle_rules })
}

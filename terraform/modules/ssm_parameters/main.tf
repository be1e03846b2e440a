data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  create_kms_key = var.create && var.create_kms_key
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # Names come from `parameters`, never from the sensitive `values`, so they can drive for_each.
  names = toset(keys(var.parameters))

  managed = var.create && var.create_parameters && !var.ignore_value_changes ? local.names : toset([])
  seeded  = var.create && var.create_parameters && var.ignore_value_changes ? local.names : toset([])

  path_arn = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${trimsuffix(var.path, "/")}"
}

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  #checkov:skip=CKV_AWS_109:A key policy: root delegation of the key to IAM is AWS's default key policy and scoped to this key.
  #checkov:skip=CKV_AWS_111:A key policy: root delegation of the key to IAM is AWS's default key policy and scoped to this key.
  #checkov:skip=CKV_AWS_356:A key policy: Resource "*" means this key; it is the only value AWS accepts there.

  # Account root administers the key so IAM policies (not only this key policy) can grant use.
  # In a key policy, Resource "*" means "this key"; it is the only value AWS accepts there.
  statement {
    sid = "AccountAdministersKey"
    # deploytools: allow DT009 key policy: root delegates this key to IAM (AWS default)
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "SSM SecureString parameters under ${var.path}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key && var.kms_key_alias != null ? 1 : 0

  name          = var.kms_key_alias
  target_key_id = aws_kms_key.this[0].key_id
}

# Terraform owns the value: it is written on every apply that changes it.
resource "aws_ssm_parameter" "this" {
  for_each = local.managed

  #checkov:skip=CKV2_AWS_34:type defaults to SecureString (with the KMS key); String is only for values the caller marks as not secret.

  name        = "${var.path}${each.key}"
  description = var.parameters[each.key].description
  type        = var.parameters[each.key].type
  tier        = var.parameters[each.key].tier
  key_id      = var.parameters[each.key].type == "SecureString" ? local.kms_key_arn : null
  value       = lookup(var.values, each.key, var.placeholder_value)
  tags        = var.tags
}

# Terraform seeds the parameter once; the real value is put out of band
# (`aws ssm put-parameter --overwrite`, or the sandbox's seeding) and never read back into a plan.
resource "aws_ssm_parameter" "seeded" {
  for_each = local.seeded

  #checkov:skip=CKV2_AWS_34:type defaults to SecureString (with the KMS key); String is only for values the caller marks as not secret.

  name        = "${var.path}${each.key}"
  description = var.parameters[each.key].description
  type        = var.parameters[each.key].type
  tier        = var.parameters[each.key].tier
  key_id      = var.parameters[each.key].type == "SecureString" ? local.kms_key_arn : null
  value       = lookup(var.values, each.key, var.placeholder_value)
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

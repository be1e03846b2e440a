data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  is_image  = var.package_type == "Image"
  from_s3   = !local.is_image && var.s3_bucket != null
  in_vpc    = length(var.subnet_ids) > 0
  tracing   = var.tracing_mode == "Active"
  log_group = "/aws/lambda/${var.function_name}"

  # deploytools passes TF_VAR_deploytools_images = {"predictor": "ACCOUNT.dkr.ecr.REGION.amazonaws.com/repo@sha256:..."}.
  image_uri = local.is_image ? lookup(var.deploytools_images, var.image_key, var.image_uri) : null
}

################################################################################
# IAM
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  source_policy_documents = var.attach_policy_json ? [var.policy_json] : []

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[0].arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.ssm_parameter_arns) > 0 ? [1] : []

    content {
      sid       = "SsmRead"
      actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
      resources = var.ssm_parameter_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ssm_parameter_arns) > 0 && length(var.kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "SsmDecrypt"
      actions   = ["kms:Decrypt"]
      resources = var.kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.in_vpc ? [1] : []

    content {
      sid = "VpcNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"] # Lambda creates ENIs before their IDs exist; these EC2 actions accept only "*".
    }
  }

  dynamic "statement" {
    for_each = local.tracing ? [1] : []

    content {
      sid       = "XRay"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"] # X-Ray trace writes have no resource-level permissions; AWS requires "*".
    }
  }

  dynamic "statement" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]

    content {
      sid       = "DeadLetter"
      actions   = startswith(statement.value, "arn:${local.partition}:sns:") ? ["sns:Publish"] : ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = coalesce(var.role_name, var.function_name)
  description          = "Execution role of the Lambda function ${var.function_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "function"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}

################################################################################
# Function, version and alias
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_158:Log encryption with a customer key is opt-in through log_kms_key_arn; CloudWatch encrypts at rest by default.
  name              = local.log_group
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_272:Code signing does not apply to container images, and deploytools verifies zip contents by hash.
  #checkov:skip=CKV_AWS_116:A dead-letter target is opt-in through dead_letter_target_arn; synchronous (API) invocations do not use one.
  #checkov:skip=CKV_AWS_117:VPC placement is opt-in through subnet_ids; functions that only call AWS APIs do not need it.
  #checkov:skip=CKV_AWS_173:Environment variables hold no secrets (those come from SSM at run time); a customer key is opt-in through kms_key_arn.
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this[0].arn
  package_type  = var.package_type
  architectures = var.architectures
  memory_size   = var.memory_size
  timeout       = var.timeout
  publish       = var.publish
  kms_key_arn   = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrent_executions

  # Image
  image_uri = local.image_uri

  # Zip, built by deploytools (deterministic, with excludes) and handed in by path and hash, or in S3
  filename          = local.is_image || local.from_s3 ? null : var.filename
  source_code_hash  = local.is_image ? null : var.source_code_hash
  s3_bucket         = local.from_s3 ? var.s3_bucket : null
  s3_key            = local.from_s3 ? var.s3_key : null
  s3_object_version = local.from_s3 ? var.s3_object_version : null
  handler           = local.is_image ? null : var.handler
  runtime           = local.is_image ? null : var.runtime

  dynamic "image_config" {
    for_each = local.is_image && var.image_config != null ? [var.image_config] : []

    content {
      command           = image_config.value.command
      entry_point       = image_config.value.entry_point
      working_directory = image_config.value.working_directory
    }
  }

  ephemeral_storage {
    size = var.ephemeral_storage_size
  }

  dynamic "environment" {
    for_each = length(var.environment) > 0 ? [1] : []

    content {
      variables = var.environment
    }
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]

    content {
      target_arn = dead_letter_config.value
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  lifecycle {
    # deploytools updates the code (update_function_code) and publishes versions; Terraform keeps the first.
    # It also merges the target's `environment:` (and, opted in, secrets) into the function's
    # environment at every deploy; were Terraform to reconcile it too, each apply would strip
    # those variables and publish a version that the deploy then replaces.
    ignore_changes = [image_uri, filename, source_code_hash, s3_bucket, s3_key, s3_object_version, environment]

    precondition {
      condition     = !local.is_image || local.image_uri != null
      error_message = "No image for \"${var.image_key}\": pass it in deploytools_images (TF_VAR_deploytools_images) or set image_uri."
    }

    precondition {
      condition     = local.is_image || local.from_s3 || (var.filename != null && var.source_code_hash != null)
      error_message = "A Zip function needs filename and source_code_hash (the package deploytools built), or s3_bucket and s3_key."
    }

    precondition {
      condition     = local.is_image || (var.handler != null && var.runtime != null)
      error_message = "A Zip function needs handler and runtime."
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_alias" "this" {
  count = var.create && var.create_alias ? 1 : 0

  name             = var.alias_name
  description      = "Moved by deploytools after each published version passes warm-up"
  function_name    = aws_lambda_function.this[0].function_name
  function_version = var.publish ? aws_lambda_function.this[0].version : "$LATEST"

  lifecycle {
    # deploytools moves the alias to each new version (and back on a failed warm-up).
    ignore_changes = [function_version, routing_config]
  }
}

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  is_fargate     = var.platform == "FARGATE"
  log_group_name = coalesce(var.log_group_name, "/aws/batch/${var.name}")

  # deploytools passes TF_VAR_deploytools_images = {"trainer": "ACCOUNT.dkr.ecr.REGION.amazonaws.com/repo@sha256:..."}.
  image = lookup(var.deploytools_images, var.image_key, var.image)

  image_repository = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^@:]+)", local.image), null)
  ecr_repository_arns = distinct(concat(
    var.ecr_repository_arns,
    local.image_repository == null ? [] : ["arn:${local.partition}:ecr:${local.image_repository[1]}:${local.image_repository[0]}:repository/${local.image_repository[2]}"],
  ))

  resource_requirements = concat(
    [
      { type = "VCPU", value = tostring(var.vcpu) },
      { type = "MEMORY", value = tostring(var.memory) },
    ],
    var.gpu == null ? [] : [{ type = "GPU", value = tostring(var.gpu) }],
  )

  container_properties = merge(
    {
      image                  = local.image
      jobRoleArn             = try(aws_iam_role.job[0].arn, null)
      executionRoleArn       = try(module.execution_role.arn, null)
      resourceRequirements   = local.resource_requirements
      readonlyRootFilesystem = var.readonly_root_filesystem
      # The training container is autonomous: everything it reads comes from here or from the
      # containerOverrides of the submitting job, never from a call back to the API.
      environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      secrets     = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.log_group_name
          awslogs-region        = local.region
          awslogs-stream-prefix = var.name
        }
      }
    },
    local.is_fargate ? {
      fargatePlatformConfiguration = { platformVersion = "LATEST" }
      networkConfiguration         = { assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED" }
      runtimePlatform              = { operatingSystemFamily = "LINUX", cpuArchitecture = var.cpu_architecture }
      ephemeralStorage             = { sizeInGiB = var.ephemeral_storage_gib }
    } : null,
    var.command == null ? null : { command = var.command },
  )
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_158:Log encryption with a customer key is opt-in through log_kms_key_arn; CloudWatch encrypts at rest by default.
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

################################################################################
# IAM: the execution role (pull, logs, secrets) and the job role (exactly what training does)
################################################################################

module "execution_role" {
  source = "../ecs_execution_role"

  create               = var.create
  name                 = "${var.name}-execution"
  description          = "Batch execution role for ${var.name}: image pull, logs, SSM secrets"
  ecr_repository_arns  = local.ecr_repository_arns
  log_group_arn        = try(aws_cloudwatch_log_group.this[0].arn, "")
  secret_arns          = values(var.secrets)
  kms_key_arns         = var.kms_key_arns
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

moved {
  from = aws_iam_role.execution
  to   = module.execution_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.execution
  to   = module.execution_role.aws_iam_role_policy.this
}

data "aws_iam_policy_document" "job" {
  count = var.create && local.job_has_permissions ? 1 : 0

  source_policy_documents = var.attach_policy_json ? [var.policy_json] : []

  dynamic "statement" {
    for_each = length(var.s3_read_arns) > 0 ? [1] : []

    content {
      sid       = "ReadInputs"
      actions   = ["s3:GetObject"]
      resources = var.s3_read_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.s3_list_bucket_arns) > 0 ? [1] : []

    content {
      sid       = "ListInputs"
      actions   = ["s3:ListBucket"]
      resources = var.s3_list_bucket_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.s3_write_arns) > 0 ? [1] : []

    content {
      sid       = "WriteOutputs"
      actions   = ["s3:PutObject"]
      resources = var.s3_write_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.dynamodb_table_arns) > 0 ? [1] : []

    content {
      sid       = "JobStatus"
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = var.dynamodb_table_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.s3_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "S3Kms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.s3_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }
}

locals {
  job_has_permissions = anytrue([
    var.attach_policy_json,
    length(var.s3_read_arns) > 0,
    length(var.s3_list_bucket_arns) > 0,
    length(var.s3_write_arns) > 0,
    length(var.dynamodb_table_arns) > 0,
  ])
}

resource "aws_iam_role" "job" {
  count = var.create ? 1 : 0

  name                 = "${var.name}-job"
  description          = "Batch job role for ${var.name}: exactly what the training code calls"
  assume_role_policy   = module.execution_role.assume_role_policy
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "job" {
  count = var.create && local.job_has_permissions ? 1 : 0

  name   = "job"
  role   = aws_iam_role.job[0].id
  policy = data.aws_iam_policy_document.job[0].json
}

################################################################################
# Job definition
################################################################################

resource "aws_batch_job_definition" "this" {
  count = var.create ? 1 : 0

  name                  = var.name
  type                  = "container"
  platform_capabilities = [var.platform]
  propagate_tags        = true
  container_properties  = jsonencode(local.container_properties)

  retry_strategy {
    attempts = var.retry_attempts

    # Retry only when the host went away (Spot reclaim), never on an application error.
    evaluate_on_exit {
      on_status_reason = "Host EC2*"
      action           = "RETRY"
    }

    evaluate_on_exit {
      on_reason = "*"
      action    = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = var.timeout_seconds
  }

  tags = var.tags

  lifecycle {
    # deploytools registers the revisions that change the image and environment.
    ignore_changes = [container_properties]

    precondition {
      condition     = local.image != null
      error_message = "No image for \"${var.image_key}\": pass it in deploytools_images (TF_VAR_deploytools_images) or set image."
    }
  }
}

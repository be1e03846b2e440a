locals {
  # Read only when the app is created, so a sandbox run (create = false) needs no file.
  build_spec = !var.create ? null : (var.build_spec != null ? var.build_spec : (var.build_spec_path != null ? file(var.build_spec_path) : null))

  # Amplify finds the Next.js app in the monorepo through this variable; it must equal appRoot in amplify.yml.
  environment_variables = merge(var.environment_variables, { AMPLIFY_MONOREPO_APP_ROOT = var.app_root })
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["amplify.amazonaws.com"]
    }
  }
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# SSR compute writes its logs here; the service role may do that and nothing else.
data "aws_iam_policy_document" "service" {
  statement {
    sid = "SsrLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
    ]
    resources = [
      "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/amplify/*",
      "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/amplify/*:log-stream:*",
    ]
  }
}

resource "aws_iam_role" "service" {
  count = var.create && var.create_service_role ? 1 : 0

  name                 = "${var.name}-amplify"
  description          = "Amplify service role of ${var.name}: SSR logs"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "service" {
  count = var.create && var.create_service_role ? 1 : 0

  name   = "ssr-logs"
  role   = aws_iam_role.service[0].id
  policy = data.aws_iam_policy_document.service.json
}

resource "aws_amplify_app" "this" {
  count = var.create ? 1 : 0

  name                  = var.name
  repository            = var.repository
  access_token          = var.access_token
  platform              = "WEB_COMPUTE" # Next.js SSR; WEB (static hosting) cannot run server-side rendering.
  build_spec            = local.build_spec
  environment_variables = local.environment_variables
  iam_service_role_arn  = var.create_service_role ? aws_iam_role.service[0].arn : var.service_role_arn

  enable_branch_auto_build    = false # deploytools starts jobs after the backend is live
  enable_auto_branch_creation = false

  tags = var.tags

  lifecycle {
    # The token is only needed to connect the repository once.
    ignore_changes = [access_token]

    precondition {
      condition     = local.build_spec != null
      error_message = "Pass build_spec_path (e.g. the repository's amplify.yml) or build_spec."
    }
  }
}

resource "aws_amplify_branch" "this" {
  count = var.create ? 1 : 0

  app_id                = aws_amplify_app.this[0].id
  branch_name           = var.branch
  framework             = "Next.js - SSR"
  stage                 = var.stage
  enable_auto_build     = false
  environment_variables = var.branch_environment_variables
  tags                  = var.tags
}

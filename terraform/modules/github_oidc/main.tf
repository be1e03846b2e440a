data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  provider_arn = var.create_provider ? try(aws_iam_openid_connect_provider.this[0].arn, null) : var.provider_arn

  subjects = concat(
    [for b in var.branches : "repo:${var.repository}:ref:refs/heads/${b}"],
    [for e in var.environments : "repo:${var.repository}:environment:${e}"],
  )

  ssm_path     = var.ssm_parameter_path == null ? null : trimsuffix(var.ssm_parameter_path, "/")
  release_path = var.release_record_path == null ? null : trimsuffix(var.release_record_path, "/")

  ecs_cluster_names = distinct([for arn in var.ecs_service_arns : element(split("/", arn), 1)])
  ecs_task_arns     = [for c in local.ecs_cluster_names : "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${c}/*"]
  ecs_cluster_arns  = [for c in local.ecs_cluster_names : "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${c}"]

  lambda_arns    = flatten([for arn in var.lambda_function_arns : [arn, "${arn}:*"]])
  ecr_prefix_arn = var.ecr_create_repository_prefix == null ? null : "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${var.ecr_create_repository_prefix}*"
  ecr_push_arns  = concat(var.ecr_repository_arns, local.ecr_prefix_arn == null ? [] : [local.ecr_prefix_arn])

  grants_something = anytrue([
    length(local.ecr_push_arns) > 0,
    length(var.ecs_service_arns) > 0,
    length(var.lambda_function_arns) > 0,
    length(var.eks_cluster_arns) > 0,
    length(var.batch_job_definition_names) > 0,
    var.ssm_parameter_path != null,
    var.release_record_path != null,
    var.amplify_app_arn != null,
  ])

  batch_arns = flatten([for n in var.batch_job_definition_names : ["arn:${local.partition}:batch:${local.region}:${local.account_id}:job-definition/${n}", "arn:${local.partition}:batch:${local.region}:${local.account_id}:job-definition/${n}:*"]])
}

################################################################################
# OIDC provider and the role's trust
################################################################################

resource "aws_iam_openid_connect_provider" "this" {
  count = var.create && var.create_provider ? 1 : 0

  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = var.thumbprints
  tags            = var.tags
}

data "aws_iam_policy_document" "trust" {
  count = var.create ? 1 : 0

  statement {
    sid     = "GitHubActions"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Exact subjects only: one repository, the named branches and environments. No wildcards.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.subjects
    }
  }
}

################################################################################
# The deploy policy: what deploytools calls, on the named resources only
################################################################################

data "aws_iam_policy_document" "deploy" {
  count = var.create ? 1 : 0

  dynamic "statement" {
    for_each = length(local.ecr_push_arns) > 0 ? [1] : []

    content {
      sid       = "EcrAuth"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"] # GetAuthorizationToken has no resource-level permissions; AWS requires "*".
    }
  }

  dynamic "statement" {
    for_each = length(local.ecr_push_arns) > 0 ? [1] : []

    content {
      sid = "EcrPush"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = local.ecr_push_arns
    }
  }

  # deploytools' `create_repository: true` creates a missing repository (immutable tags, scan on
  # push); allowed only for names under the prefix.
  dynamic "statement" {
    for_each = var.ecr_create_repository_prefix == null ? [] : [1]

    content {
      sid = "EcrCreate"
      actions = [
        "ecr:CreateRepository",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutLifecyclePolicy",
        "ecr:TagResource",
      ]
      resources = [local.ecr_prefix_arn]
    }
  }

  dynamic "statement" {
    for_each = length(var.ecs_service_arns) > 0 ? [1] : []

    content {
      sid = "EcsTaskDefinitions"
      # Task definition registration and reads have no resource-level permissions; AWS requires "*".
      actions   = ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.ecs_service_arns) > 0 ? [1] : []

    content {
      sid       = "EcsServices"
      actions   = ["ecs:DescribeServices", "ecs:UpdateService"]
      resources = var.ecs_service_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ecs_service_arns) > 0 ? [1] : []

    content {
      sid       = "EcsTasks"
      actions   = ["ecs:DescribeTasks", "ecs:ListTasks"]
      resources = concat(local.ecs_task_arns, local.ecs_cluster_arns)
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_function_arns) > 0 ? [1] : []

    content {
      sid = "Lambda"
      actions = [
        "lambda:GetAlias",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:InvokeFunction",
        "lambda:ListVersionsByFunction",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionCode",
      ]
      resources = local.lambda_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.lambda_code_bucket_arns) > 0 ? [1] : []

    content {
      sid       = "LambdaZipUpload"
      actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"]
      resources = [for arn in var.lambda_code_bucket_arns : "${arn}/${var.lambda_code_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.eks_cluster_arns) > 0 ? [1] : []

    content {
      sid       = "EksDescribe"
      actions   = ["eks:DescribeCluster"]
      resources = var.eks_cluster_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.batch_job_definition_names) > 0 ? [1] : []

    content {
      sid       = "BatchDescribe"
      actions   = ["batch:DescribeJobDefinitions"]
      resources = ["*"] # Batch Describe* calls have no resource-level permissions; AWS requires "*".
    }
  }

  dynamic "statement" {
    for_each = length(var.batch_job_definition_names) > 0 ? [1] : []

    content {
      sid       = "BatchRegister"
      actions   = ["batch:RegisterJobDefinition", "batch:DeregisterJobDefinition", "batch:TagResource"]
      resources = local.batch_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.pass_role_arns) > 0 ? [1] : []

    content {
      sid       = "PassWorkloadRoles"
      actions   = ["iam:PassRole"]
      resources = var.pass_role_arns

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = var.pass_role_services
      }
    }
  }

  dynamic "statement" {
    for_each = var.ssm_parameter_path == null ? [] : [1]

    content {
      sid       = "SsmReadSecrets"
      actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
      resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.ssm_path}", "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.ssm_path}/*"]
    }
  }

  dynamic "statement" {
    for_each = var.ssm_parameter_path != null ? [1] : []

    content {
      sid       = "SsmDescribe"
      actions   = ["ssm:DescribeParameters"]
      resources = ["*"] # DescribeParameters has no resource-level permissions; AWS requires "*". It returns names, never values.
    }
  }

  dynamic "statement" {
    for_each = local.release_path == null ? [] : [1]

    content {
      sid       = "ReleaseRecord"
      actions   = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter", "ssm:GetParameterHistory", "ssm:DeleteParameter", "ssm:DeleteParameters"]
      resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.release_path}", "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.release_path}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []

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
    for_each = var.amplify_app_arn == null ? [] : [var.amplify_app_arn]

    content {
      sid = "AmplifyApp"
      actions = [
        "amplify:CreateBranch",
        "amplify:GetApp",
        "amplify:GetBranch",
        "amplify:GetJob",
        "amplify:ListJobs",
        "amplify:StartJob",
        "amplify:UpdateApp",
        "amplify:UpdateBranch",
      ]
      resources = [statement.value, "${statement.value}/*"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = var.role_name
  description          = "Assumed by GitHub Actions in ${var.repository} to deploy with deploytools"
  assume_role_policy   = data.aws_iam_policy_document.trust[0].json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = local.provider_arn != null
      error_message = "Set create_provider = true, or pass provider_arn of the account's existing GitHub OIDC provider."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "deploy"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.deploy[0].json

  lifecycle {
    precondition {
      condition     = local.grants_something
      error_message = "The deploy role would have no permissions: pass at least one of ecr_repository_arns, ecs_service_arns, lambda_function_arns, eks_cluster_arns, batch_job_definition_names, ssm_parameter_path, release_record_path, amplify_app_arn."
    }
  }
}

resource "aws_iam_role_policy_attachment" "additional" {
  for_each = var.create ? toset(var.additional_policy_arns) : toset([])

  role       = aws_iam_role.this[0].name
  policy_arn = each.value
}

################################################################################
# The plan role: read-only, for pull requests. `terraform plan` refreshes every resource, so it
# gets AWS's ReadOnlyAccess plus reading the state and taking the state lock; it cannot change
# anything else. The deploy role above stays for the branches and environments that deploy.
# Terraform itself (apply) runs under the deploy role in deploytools' pipeline; give that role
# what the Terraform roots manage through additional_policy_arns, or run apply elsewhere.
################################################################################

locals {
  plan_subjects = concat(
    var.plan_subjects_pull_request ? ["repo:${var.repository}:pull_request"] : [],
    local.subjects,
  )
  state_objects = var.terraform_state_bucket_arn == null ? [] : ["${var.terraform_state_bucket_arn}/${var.terraform_state_key_prefix}*"]
}

data "aws_iam_policy_document" "plan_trust" {
  count = var.create && var.create_plan_role ? 1 : 0

  statement {
    sid     = "GitHubActionsPlan"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.plan_subjects
    }
  }
}

data "aws_iam_policy_document" "plan_state" {
  count = var.create && var.create_plan_role && (var.terraform_state_bucket_arn != null || var.terraform_lock_table_arn != null) ? 1 : 0

  dynamic "statement" {
    for_each = var.terraform_state_bucket_arn == null ? [] : [1]

    content {
      sid       = "StateRead"
      actions   = ["s3:GetObject", "s3:ListBucket"]
      resources = concat([var.terraform_state_bucket_arn], local.state_objects)
    }
  }

  dynamic "statement" {
    for_each = var.terraform_state_bucket_arn == null ? [] : [1]

    content {
      sid       = "StateLockFiles"
      actions   = ["s3:PutObject", "s3:DeleteObject"]
      resources = ["${var.terraform_state_bucket_arn}/${var.terraform_state_key_prefix}*.tflock"]
    }
  }

  dynamic "statement" {
    for_each = var.terraform_lock_table_arn == null ? [] : [var.terraform_lock_table_arn]

    content {
      sid       = "StateLockTable"
      actions   = ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "plan" {
  count = var.create && var.create_plan_role ? 1 : 0

  name                 = var.plan_role_name
  description          = "Assumed by GitHub Actions in ${var.repository} to plan with deploytools (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust[0].json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  count = var.create && var.create_plan_role ? 1 : 0

  role       = aws_iam_role.plan[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan_state" {
  count = length(data.aws_iam_policy_document.plan_state)

  name   = "terraform-state"
  role   = aws_iam_role.plan[0].id
  policy = data.aws_iam_policy_document.plan_state[0].json
}

provider "aws" {
  region = var.region

  # Endpoints come from the environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), which the
  # AWS provider 5.x honours; the sandbox needs path-style S3 on top. Nothing here weakens real use.
  s3_use_path_style = var.deploytools_sandbox
}

locals {
  name = "${var.project}-${var.deploytools_env}"
  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.deploytools_env
    ManagedBy   = "terraform"
  })
}

data "aws_vpc" "default" {
  count = var.vpc_id == null ? 1 : 0

  default = true
}

data "aws_subnets" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }
}

locals {
  vpc_id     = var.vpc_id != null ? var.vpc_id : data.aws_vpc.default[0].id
  subnet_ids = length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids

  # moto routes no traffic and drops the health check grace period, so the sandbox runs the
  # service without a load balancer; the grace period is checked by plan.
  create_load_balancer = !var.deploytools_sandbox
}

module "ecr" {
  source = "../../modules/ecr_repository"

  manage_repository = false                   # deploytools creates it before Terraform runs (create_repository)
  name              = "${var.project}-scorer" # deploytools default: {project}-{image}
  force_delete      = var.deploytools_sandbox
  tags              = local.tags
}

module "ssm" {
  source = "../../modules/ssm_parameters"

  path              = "/${var.project}/${var.deploytools_env}/"
  parameters        = { for s in var.secrets : s => {} }
  create_parameters = var.manage_secret_parameters
  create_kms_key    = var.manage_secret_parameters
  kms_key_arn       = var.secrets_kms_key_arn
  kms_key_alias     = var.manage_secret_parameters ? "alias/${local.name}-ssm" : null
  tags              = local.tags
}

# The data lake: raw events, processed features, model artifacts.
module "data_lake" {
  source = "../../modules/buckets"

  name_prefix   = local.name
  force_destroy = var.deploytools_sandbox
  enforce_tls   = !var.deploytools_sandbox # moto serves plain HTTP and enforces bucket policies
  buckets = {
    raw       = { transition_to_ia_days = 30, expiration_days = 365 }
    processed = { transition_to_ia_days = 90 }
    artifacts = { noncurrent_version_expiration_days = 90 }
  }
  tags = local.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${module.data_lake.bucket_arns["processed"]}/*", "${module.data_lake.bucket_arns["artifacts"]}/models/*"]
  }

  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket"]
    resources = [module.data_lake.bucket_arns["processed"], module.data_lake.bucket_arns["artifacts"]]
  }

  statement {
    sid       = "WriteEvents"
    actions   = ["s3:PutObject"]
    resources = ["${module.data_lake.bucket_arns["raw"]}/events/*"]
  }
}

################################################################################
# Load balancer (off in the sandbox)
################################################################################

resource "aws_security_group" "alb" {
  count = local.create_load_balancer ? 1 : 0

  name        = "${local.name}-alb"
  description = "Load balancer of ${local.name}"
  vpc_id      = local.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = local.create_load_balancer ? toset(var.certificate_arn == null ? ["80"] : ["80", "443"]) : toset([])

  #checkov:skip=CKV_AWS_260:A public API: port 80 is open to the internet (it redirects to HTTPS when certificate_arn is set).
  security_group_id = aws_security_group.alb[0].id
  description       = "Public ${each.value}"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "alb" {
  count = local.create_load_balancer ? 1 : 0

  security_group_id            = aws_security_group.alb[0].id
  description                  = "To the tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  from_port                    = 8080
  to_port                      = 8080
  ip_protocol                  = "tcp"
}

resource "aws_lb" "this" {
  count = local.create_load_balancer ? 1 : 0

  #checkov:skip=CKV_AWS_91:Access logs need a log bucket with the ELB service's policy; enable per account.
  #checkov:skip=CKV2_AWS_28:WAF is an account-level choice (cost); attach a web ACL to this load balancer if the API is public.
  name                       = "${local.name}-api"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb[0].id]
  subnets                    = local.subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.lb_deletion_protection
  tags                       = local.tags
}

resource "aws_lb_target_group" "api" {
  count = local.create_load_balancer ? 1 : 0

  #checkov:skip=CKV_AWS_378:TLS terminates at the load balancer; the hop to the task stays inside the VPC.
  name                 = "${local.name}-api"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = local.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/health"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = local.tags
}

resource "aws_lb_listener" "http" {
  count = local.create_load_balancer ? 1 : 0

  #checkov:skip=CKV_AWS_2:Plain HTTP only forwards when no certificate_arn is given (development); otherwise it redirects to HTTPS.
  #checkov:skip=CKV_AWS_103:See CKV_AWS_2: TLS settings belong to the HTTPS listener.
  #checkov:skip=CKV2_AWS_20:See CKV_AWS_2: the redirect is made when certificate_arn is set.
  load_balancer_arn = aws_lb.this[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.certificate_arn == null ? "forward" : "redirect"
    target_group_arn = var.certificate_arn == null ? aws_lb_target_group.api[0].arn : null

    dynamic "redirect" {
      for_each = var.certificate_arn == null ? [] : [1]

      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.create_load_balancer && var.certificate_arn != null ? 1 : 0

  load_balancer_arn = aws_lb.this[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api[0].arn
  }
}

################################################################################
# Service
################################################################################

resource "aws_security_group" "tasks" {
  name        = "${local.name}-api-tasks"
  description = "Tasks of ${local.name}-api"
  vpc_id      = local.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "tasks" {
  count = local.create_load_balancer ? 1 : 0

  security_group_id            = aws_security_group.tasks.id
  description                  = "From the load balancer"
  referenced_security_group_id = aws_security_group.alb[0].id
  from_port                    = 8080
  to_port                      = 8080
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "tasks" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, S3, SSM, logs)"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

module "scorer" {
  source = "../../modules/ecs_service"

  name                    = "${local.name}-scorer"
  cluster_name            = local.name
  container_name          = "scorer"
  deploytools_images      = var.deploytools_images
  image_key               = "scorer"
  container_port          = 8080
  cpu                     = 1024
  memory                  = 4096
  subnet_ids              = local.subnet_ids
  security_group_ids      = [aws_security_group.tasks.id]
  environment             = { RAW_BUCKET = module.data_lake.bucket_names["raw"], PROCESSED_BUCKET = module.data_lake.bucket_names["processed"], ARTIFACTS_BUCKET = module.data_lake.bucket_names["artifacts"] }
  secrets                 = module.ssm.parameter_arns
  kms_key_arns            = module.ssm.kms_key_arns
  task_role_policy_json   = data.aws_iam_policy_document.task.json
  attach_task_role_policy = true
  load_balancers          = local.create_load_balancer ? [{ target_group_arn = aws_lb_target_group.api[0].arn }] : []

  # Loading the model takes ~60 s before /health answers.
  health_check_grace_period_seconds = 120

  enable_ecs_managed_tags = !var.deploytools_sandbox # moto does not echo it
  tags                    = local.tags
}

################################################################################
# Deploy role (GitHub OIDC), when a repository is given
################################################################################

module "github_oidc" {
  source = "../../modules/github_oidc"

  create          = var.github_repository != null
  create_provider = var.github_oidc_provider_arn == null
  provider_arn    = var.github_oidc_provider_arn
  role_name       = "${local.name}-deploy"
  repository      = coalesce(var.github_repository, "unset/unset")
  environments    = [var.deploytools_env]

  ecr_repository_arns = [module.ecr.repository_arn]
  ecs_service_arns    = [module.scorer.service_arn]
  pass_role_arns      = [module.scorer.execution_role_arn, module.scorer.task_role_arn]
  ssm_parameter_path  = module.ssm.path
  kms_key_arns        = module.ssm.kms_key_arns
  release_record_path = "/deploytools/${var.project}/${var.deploytools_env}/"
  tags                = local.tags
}

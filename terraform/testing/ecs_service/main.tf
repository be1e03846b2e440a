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

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

module "ssm" {
  source = "../../modules/ssm_parameters"

  path       = "/${var.name}/ecs/"
  parameters = { API_KEY = {} }
}

module "ecr" {
  source = "../../modules/ecr_repository"

  name         = "${var.name}-ecs-api"
  force_delete = true
}

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:Attached to the ECS service through the module input.
  name        = "${var.name}-ecs-tasks"
  description = "harness: ECS tasks"
  vpc_id      = data.aws_vpc.default.id

  egress {
    description = "HTTPS to AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb_target_group" "api" {
  #checkov:skip=CKV_AWS_378:Harness target group; TLS terminates at the load balancer in real envs.
  name        = "${var.name}-ecs-api"
  port        = 8080
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = data.aws_vpc.default.id

  health_check {
    path    = "/health"
    matcher = "200"
  }
}

module "ecs_service" {
  source = "../../modules/ecs_service"

  name               = "${var.name}-api"
  deploytools_images = { api = "${module.ecr.repository_url}@sha256:${sha256("harness")}" }
  image_key          = "api"
  subnet_ids         = data.aws_subnets.default.ids
  security_group_ids = [aws_security_group.tasks.id]
  environment        = { LOG_LEVEL = "INFO" }
  secrets            = module.ssm.parameter_arns
  kms_key_arns       = [module.ssm.kms_key_arn]
  load_balancers     = var.attach_load_balancer ? [{ target_group_arn = aws_lb_target_group.api.arn }] : []

  health_check_grace_period_seconds = var.health_check_grace_period_seconds

  # moto does not echo enableECSManagedTags; true (the module default) would show as a change on every plan.
  enable_ecs_managed_tags = false
}

# A worker without a port or load balancer, on an existing cluster, from the fallback image.
module "ecs_worker" {
  source = "../../modules/ecs_service"

  name               = "${var.name}-worker"
  create_cluster     = false
  cluster_arn        = module.ecs_service.cluster_arn
  image              = "public.ecr.aws/docker/library/busybox:stable"
  container_port     = null
  command            = ["sleep", "3600"]
  subnet_ids         = data.aws_subnets.default.ids
  security_group_ids = [aws_security_group.tasks.id]

  enable_ecs_managed_tags = false
}

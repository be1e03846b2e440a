data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  cluster_name   = coalesce(var.cluster_name, var.name)
  cluster_arn    = var.create_cluster ? try(aws_ecs_cluster.this[0].arn, null) : var.cluster_arn
  container_name = coalesce(var.container_name, var.name)
  log_group_name = coalesce(var.log_group_name, "/ecs/${var.name}")

  # deploytools passes TF_VAR_deploytools_images = {"api": "ACCOUNT.dkr.ecr.REGION.amazonaws.com/repo@sha256:..."}.
  image = lookup(var.deploytools_images, var.image_key, var.image)

  # ECR repositories the execution role may pull from: the ones given, plus the one the image names.
  image_repository = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^@:]+)", local.image), null)
  ecr_repository_arns = distinct(concat(
    var.ecr_repository_arns,
    local.image_repository == null ? [] : ["arn:${local.partition}:ecr:${local.image_repository[1]}:${local.image_repository[0]}:repository/${local.image_repository[2]}"],
  ))

  container_definition = merge({
    name                   = local.container_name
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = var.readonly_root_filesystem
    portMappings = var.container_port == null ? [] : [{
      containerPort = var.container_port
      hostPort      = var.container_port
      protocol      = "tcp"
    }]
    environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
    # Secrets reach the container from SSM by reference; their values never pass through Terraform.
    secrets = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group_name
        awslogs-region        = local.region
        awslogs-stream-prefix = "ecs"
      }
    }
  }, var.command == null ? null : { command = var.command })
}

################################################################################
# Cluster and logs
################################################################################

resource "aws_ecs_cluster" "this" {
  count = var.create && var.create_cluster ? 1 : 0

  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
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
# IAM: the execution role (pull, logs, secrets) and the task role (the app)
################################################################################

module "execution_role" {
  source = "../ecs_execution_role"

  create               = var.create
  name                 = "${var.name}-execution"
  description          = "ECS task execution role for ${var.name}: image pull, logs, SSM secrets"
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

resource "aws_iam_role" "task" {
  count = var.create ? 1 : 0

  name                 = "${var.name}-task"
  description          = "ECS task role for ${var.name}: what the application itself may call"
  assume_role_policy   = module.execution_role.assume_role_policy
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task" {
  count = var.create && var.attach_task_role_policy ? 1 : 0

  name   = "task"
  role   = aws_iam_role.task[0].id
  policy = var.task_role_policy_json
}

################################################################################
# Task definition and service
################################################################################

resource "aws_ecs_task_definition" "this" {
  count = var.create ? 1 : 0

  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = module.execution_role.arn
  task_role_arn            = aws_iam_role.task[0].arn
  container_definitions    = jsonencode([local.container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.image != null
      error_message = "No image for \"${var.image_key}\": pass it in deploytools_images (TF_VAR_deploytools_images) or set image."
    }
  }
}

resource "aws_ecs_service" "this" {
  count = var.create ? 1 : 0

  name                               = var.name
  cluster                            = local.cluster_arn
  task_definition                    = aws_ecs_task_definition.this[0].arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = var.platform_version
  deployment_minimum_healthy_percent = var.deployment_minimum_healthy_percent
  deployment_maximum_percent         = var.deployment_maximum_percent
  health_check_grace_period_seconds  = length(var.load_balancers) > 0 ? var.health_check_grace_period_seconds : null
  enable_execute_command             = var.enable_execute_command
  enable_ecs_managed_tags            = var.enable_ecs_managed_tags
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = var.wait_for_steady_state

  deployment_controller {
    type = "ECS"
  }

  # A deployment whose tasks keep failing stops and rolls back to the last good revision.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  dynamic "load_balancer" {
    for_each = var.load_balancers

    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = local.container_name
      container_port   = coalesce(load_balancer.value.container_port, var.container_port)
    }
  }

  tags = var.tags

  lifecycle {
    # deploytools registers new revisions and moves the service; Terraform must not move it back.
    # availability_zone_rebalancing is not an input of this module; ignoring it keeps plans quiet
    # where the API does not echo it (older regions' defaults, moto).
    ignore_changes = [task_definition, availability_zone_rebalancing]

    precondition {
      condition     = length(var.load_balancers) == 0 || var.health_check_grace_period_seconds >= 60
      error_message = "health_check_grace_period_seconds must be at least 60 for a service behind a load balancer (DT008): a slow start would otherwise fail health checks and trip the circuit breaker."
    }
  }
}

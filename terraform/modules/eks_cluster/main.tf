data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  partition      = data.aws_partition.current.partition
  account_id     = data.aws_caller_identity.current.account_id
  create_kms_key = var.create && var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? try(aws_kms_key.this[0].arn, null) : var.kms_key_arn
  node_subnets   = coalesce(var.node_subnet_ids, var.subnet_ids)
}

################################################################################
# Cluster
################################################################################

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  count = var.create ? 1 : 0

  name                 = "${var.name}-cluster"
  description          = "EKS control plane role of ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.cluster_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  count = var.create ? 1 : 0

  role       = aws_iam_role.cluster[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  #checkov:skip=CKV_AWS_109:A key policy: root delegation of the key to IAM is AWS's default key policy and scoped to this key.
  #checkov:skip=CKV_AWS_111:A key policy: root delegation of the key to IAM is AWS's default key policy and scoped to this key.
  #checkov:skip=CKV_AWS_356:A key policy: Resource "*" means this key; it is the only value AWS accepts there.

  # Account root administers the key so IAM policies (the cluster role's) can grant its use.
  # In a key policy, Resource "*" means "this key"; it is the only value AWS accepts there.
  statement {
    sid = "AccountAdministersKey"
    # deploytools: allow DT009 key policy: root delegates this key to IAM (AWS default)
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "Envelope encryption of Kubernetes secrets in ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_158:Log encryption with a customer key is opt-in through log_kms_key_arn; CloudWatch encrypts at rest by default.
  # EKS writes control plane logs here; creating it first sets the retention.
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_eks_cluster" "this" {
  count = var.create ? 1 : 0

  #checkov:skip=CKV_AWS_39:The deploy job (a GitHub-hosted runner) reaches the API over the public endpoint; set endpoint_public_access = false with self-hosted runners in the VPC.
  #checkov:skip=CKV_AWS_38:public_access_cidrs is an input; every request still needs an IAM identity with an access entry.
  name                      = var.name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster[0].arn
  enabled_cluster_log_types = var.cluster_log_types

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = var.security_group_ids
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = local.kms_key_arn
    }
  }

  dynamic "access_config" {
    for_each = var.manage_access_config ? [1] : []

    content {
      authentication_mode                         = var.authentication_mode
      bootstrap_cluster_creator_admin_permissions = var.bootstrap_cluster_creator_admin_permissions
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.this]
}

################################################################################
# Managed node group
################################################################################

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  count = var.create && var.create_node_group ? 1 : 0

  name                 = "${var.name}-node"
  description          = "EKS managed node group role of ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.node_assume.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = var.create && var.create_node_group ? toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
  ]) : toset([])

  role       = aws_iam_role.node[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

resource "aws_eks_node_group" "this" {
  count = var.create && var.create_node_group ? 1 : 0

  cluster_name    = aws_eks_cluster.this[0].name
  node_group_name = "${var.name}-default"
  node_role_arn   = aws_iam_role.node[0].arn
  subnet_ids      = local.node_subnets
  instance_types  = var.node_instance_types
  ami_type        = var.node_ami_type
  capacity_type   = var.node_capacity_type
  disk_size       = var.node_disk_size
  labels          = var.node_labels

  scaling_config {
    desired_size = var.node_desired_size
    min_size     = var.node_min_size
    max_size     = var.node_max_size
  }

  update_config {
    max_unavailable = 1
  }

  tags = var.tags

  lifecycle {
    # The cluster autoscaler (or a person) changes the desired size; Terraform keeps min and max.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

################################################################################
# Access entry: the deploy role may patch workloads in the named namespaces only
################################################################################

resource "aws_eks_access_entry" "deploy" {
  count = var.create && var.create_deploy_access_entry ? 1 : 0

  cluster_name  = aws_eks_cluster.this[0].name
  principal_arn = var.deploy_role_arn
  type          = "STANDARD"
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = var.deploy_role_arn != null
      error_message = "create_deploy_access_entry needs deploy_role_arn (e.g. module.github_oidc.role_arn)."
    }
  }
}

resource "aws_eks_access_policy_association" "deploy" {
  count = var.create && var.create_deploy_access_entry ? 1 : 0

  cluster_name  = aws_eks_cluster.this[0].name
  principal_arn = aws_eks_access_entry.deploy[0].principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/${var.deploy_access_policy}"

  access_scope {
    type       = "namespace"
    namespaces = var.deploy_namespaces
  }
}

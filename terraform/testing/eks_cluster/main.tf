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

# moto has no EKS access entries (CreateAccessEntry), and its node groups come back with an SSH
# key and without update_config (a forced replacement on every plan), so the harness turns
# them off by default; plan and `terraform validate` cover them.
module "eks" {
  source = "../../modules/eks_cluster"

  name                       = "${var.name}-eks"
  subnet_ids                 = data.aws_subnets.default.ids
  kubernetes_version         = "1.31"
  manage_access_config       = var.manage_access_config
  create_node_group          = var.create_node_group
  create_deploy_access_entry = var.create_deploy_access_entry
  deploy_role_arn            = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-deploy"
}

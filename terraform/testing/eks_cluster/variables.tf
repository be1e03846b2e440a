variable "region" {
  description = "Region of the moto server."
  type        = string
  default     = "us-east-1"
}

variable "expected_account_id" {
  description = "Account the caller must be in: moto's default account. Guards against applying this harness to a real account."
  type        = string
  default     = "123456789012"
}

variable "name" {
  description = "Name prefix of what this harness creates."
  type        = string
  default     = "dt-test"
}

variable "manage_access_config" {
  description = "Passed to the module; false against moto."
  type        = bool
  default     = false
}

variable "create_deploy_access_entry" {
  description = "Passed to the module; false against moto (no access entry API)."
  type        = bool
  default     = false
}

variable "create_node_group" {
  description = "Passed to the module; false against moto (its node groups never plan clean)."
  type        = bool
  default     = false
}

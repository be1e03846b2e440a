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

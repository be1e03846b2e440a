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

variable "attach_load_balancer" {
  description = "Whether the api service registers with the target group. moto drops healthCheckGracePeriodSeconds, so with true every later plan shows the grace period as a change; use it to check plans (the >= 60 s precondition), not the no-change re-plan."
  type        = bool
  default     = false
}

variable "health_check_grace_period_seconds" {
  description = "Grace period passed to the api service (the module refuses < 60 behind a load balancer)."
  type        = number
  default     = 90
}

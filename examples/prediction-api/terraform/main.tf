# Placeholder root module; the Terraform issue composes terraform/modules here.
variable "deploytools_images" {
  description = "Image name to repository@digest, set by deploytools."
  type        = map(string)
  default     = {}
}

variable "deploytools_env" {
  description = "The environment being deployed, set by deploytools."
  type        = string
  default     = "dev"
}

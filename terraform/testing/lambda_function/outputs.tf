output "image_function_name" {
  description = "Name of the Image function."
  value       = module.lambda_image.function_name
}

output "image_alias_arn" {
  description = "ARN of the Image function's alias."
  value       = module.lambda_image.alias_arn
}

output "zip_function_name" {
  description = "Name of the Zip function."
  value       = module.lambda_zip.function_name
}

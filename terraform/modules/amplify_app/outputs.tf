output "app_id" {
  description = "ID of the app."
  value       = try(aws_amplify_app.this[0].id, null)
}

output "app_arn" {
  description = "ARN of the app (the github_oidc module's `amplify_app_arn`)."
  value       = try(aws_amplify_app.this[0].arn, null)
}

output "default_domain" {
  description = "Default domain of the app."
  value       = try(aws_amplify_app.this[0].default_domain, null)
}

output "branch_name" {
  description = "Name of the branch."
  value       = try(aws_amplify_branch.this[0].branch_name, null)
}

output "branch_url" {
  description = "URL of the branch, `https://BRANCH.APP_ID.amplifyapp.com`."
  value       = try("https://${replace(aws_amplify_branch.this[0].branch_name, "/", "-")}.${aws_amplify_app.this[0].default_domain}", null)
}

output "bucket_names" {
  description = "Map of purpose to bucket name."
  value       = merge(module.buckets.bucket_names, module.buckets_kms.bucket_names)
}

locals {
  buckets = var.create ? var.buckets : {}

  names = {
    for key, b in local.buckets : key => coalesce(b.name, join("-", compact([var.name_prefix, key, var.name_suffix])))
  }

  sse_algorithm = var.kms_key_arn == null ? "AES256" : "aws:kms"
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  #checkov:skip=CKV_AWS_18:Server access logging needs a separate log bucket per account; enable it there (logging_bucket).
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per data set, not a module default.
  #checkov:skip=CKV2_AWS_62:Event notifications are wired by the consumer (e.g. an ETL trigger), not by the bucket module.
  #checkov:skip=CKV_AWS_145:SSE-S3 is the default; pass kms_key_arn for SSE-KMS with a customer managed key.
  bucket        = local.names[each.key]
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "expire"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = local.buckets[each.key].abort_incomplete_multipart_upload_days
    }

    dynamic "transition" {
      for_each = local.buckets[each.key].transition_to_ia_days == null ? [] : [local.buckets[each.key].transition_to_ia_days]

      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    dynamic "expiration" {
      for_each = local.buckets[each.key].expiration_days == null ? [] : [local.buckets[each.key].expiration_days]

      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = local.buckets[each.key].noncurrent_version_expiration_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = var.logging_bucket == null ? {} : local.buckets

  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = var.logging_bucket
  target_prefix = "s3/${aws_s3_bucket.this[each.key].id}/"
}

data "aws_iam_policy_document" "tls_only" {
  for_each = var.enforce_tls ? local.buckets : {}

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = var.enforce_tls ? local.buckets : {}

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

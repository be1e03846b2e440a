"""An IAM role Lambda may assume, in moto, for the Lambda target tests."""

from __future__ import annotations

import json

from deploytools.aws import AwsContext

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def lambda_role(aws: AwsContext, name: str = "predict") -> str:
    """Create the role; returns its ARN."""
    created = aws.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )
    return str(created["Role"]["Arn"])

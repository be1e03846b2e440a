"""Each environment's own account in the sandbox: moto serves any account id, and the keys
that sts:AssumeRole returns act in the role's account.

So an environment whose `account_id` is a real one (as a config for AWS has) deploys into an
account of that id in the sandbox: the account guard passes for the right reason, and two
environments with two accounts keep their resources apart, as they would on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import BotoCoreError, ClientError

from deploytools.aws import AwsContext
from deploytools.errors import DeployError

DEFAULT_ACCOUNT = "123456789012"  # moto's, which the sandbox's own keys act in
ROLE_NAME = "deploytools-sandbox"


def sandbox_context(
    region: str, endpoints: Mapping[str, str], credentials: tuple[str, str], account_id: str
) -> AwsContext:
    """A context acting in `account_id` (moto's default account needs no role)."""
    base = AwsContext(region, None, endpoints, credentials=credentials)
    if account_id == DEFAULT_ACCOUNT:
        return base
    role = f"arn:aws:iam::{account_id}:role/{ROLE_NAME}"
    try:
        answer = base.client("sts").assume_role(RoleArn=role, RoleSessionName=ROLE_NAME)
    except (ClientError, BotoCoreError) as exc:
        raise DeployError(
            f"the sandbox could not assume {role} (sts:AssumeRole): {exc}; "
            "is the sandbox running? (deploytools sandbox status)"
        ) from exc
    keys = answer["Credentials"]
    # moto maps the key id to the role's account; it checks no secret or session token.
    return AwsContext(
        region, None, endpoints, credentials=(keys["AccessKeyId"], keys["SecretAccessKey"])
    )

#!/usr/bin/env bash
# Apply every harness root (and, with --examples, every example in sandbox mode) against moto,
# check that a second plan shows no changes, simulate what deploytools does after Terraform
# (a new ECS task definition revision, new Lambda code and a moved alias), check again, destroy.
#
#   terraform/testing/verify.sh [--examples] [HARNESS...]
#
# Uses AWS_ENDPOINT_URL if it is set (a running moto server); otherwise starts moto_server on a
# free loopback port and stops it at the end. Never talks to anything but 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tf_root="$(dirname "$here")"
with_examples=0
harnesses=()
for arg in "$@"; do
  case "$arg" in
    --examples) with_examples=1 ;;
    *) harnesses+=("$arg") ;;
  esac
done
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(ecr_repository ssm_parameters buckets ecs_service lambda_function github_oidc batch_job eks_cluster)
fi

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION="${AWS_REGION:-us-east-1}"
unset AWS_PROFILE AWS_SESSION_TOKEN

moto_pid=""
cleanup() { if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # The EKS module attaches AWS managed policies, which moto only knows when told to load them.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  moto_pid=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  for _ in $(seq 50); do
    curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/" 2>/dev/null && break
    sleep 0.2
  done
fi
case "$AWS_ENDPOINT_URL" in
  http://127.0.0.1:*|http://localhost:*) ;;
  *) echo "refusing: AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL is not a loopback moto server" >&2; exit 2 ;;
esac

if [ -z "${TF_CLI_CONFIG_FILE:-}" ] || [ ! -f "${TF_CLI_CONFIG_FILE}" ]; then
  if [ -d /opt/tf-plugins ]; then
    TF_CLI_CONFIG_FILE="$(mktemp)"
    printf 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n' >"$TF_CLI_CONFIG_FILE"
    export TF_CLI_CONFIG_FILE
  fi
fi

failures=0
log="$(mktemp -d)"

step() { printf '%-48s %s\n' "$1" "$2"; }
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_'; }

no_changes() {
  # terraform plan -detailed-exitcode: 0 no changes, 2 changes, 1 error
  local dir="$1" name="$2" out
  shift 2
  out="$log/$(slug "$name").plan"
  if terraform -chdir="$dir" plan -detailed-exitcode -input=false -no-color "$@" >"$out" 2>&1; then
    step "$name" "second plan: no changes"
  else
    step "$name" "second plan: CHANGES or error (see $out)"
    failures=$((failures + 1))
  fi
}

boto() {
  python3 - "$@" <<'PY'
import os, sys, boto3
kw = dict(region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL"])
what = sys.argv[1]
if what == "ecs":
    ecs = boto3.client("ecs", **kw)
    cluster, service = sys.argv[2], sys.argv[3]
    svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
            "requiresCompatibilities", "cpu", "memory", "runtimePlatform")
    new = {k: td[k] for k in keep if k in td}
    new["containerDefinitions"][0]["image"] = new["containerDefinitions"][0]["image"].split("@")[0] + "@sha256:" + "d" * 64
    arn = ecs.register_task_definition(**new)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=service, taskDefinition=arn)
    print(arn)
elif what == "lambda":
    lam = boto3.client("lambda", **kw)
    fn, alias, kind, code = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    if kind == "image":
        lam.update_function_code(FunctionName=fn, ImageUri=code)
    else:
        lam.update_function_code(FunctionName=fn, ZipFile=open(code, "rb").read())
    version = lam.publish_version(FunctionName=fn)["Version"]
    lam.update_alias(FunctionName=fn, Name=alias, FunctionVersion=version)
    print(version)
PY
}

run_root() {
  local dir="$1" name="$2" base
  shift 2
  base="$log/$(slug "$name")"
  terraform -chdir="$dir" init -input=false -no-color >"$base.init" 2>&1
  if terraform -chdir="$dir" apply -auto-approve -input=false -no-color "$@" >"$base.apply" 2>&1; then
    step "$name" "apply: ok"
  else
    step "$name" "apply: FAILED (see $base.apply)"
    failures=$((failures + 1))
    return 1
  fi
  no_changes "$dir" "$name" "$@"
}

destroy_root() {
  local dir="$1" name="$2"
  shift 2
  terraform -chdir="$dir" destroy -auto-approve -input=false -no-color "$@" >"$log/$(slug "$name").destroy" 2>&1 \
    || step "$name" "destroy: FAILED (see $log/$(slug "$name").destroy)"
}

for h in "${harnesses[@]}"; do
  dir="$here/$h"
  run_root "$dir" "$h" || continue
  case "$h" in
    ecs_service)
      cluster="$(terraform -chdir="$dir" output -raw ecs_cluster_name)"
      service="$(terraform -chdir="$dir" output -raw ecs_service_name)"
      boto ecs "$cluster" "$service" >/dev/null
      no_changes "$dir" "$h (after deploytools revision)"
      ;;
    lambda_function)
      boto lambda "$(terraform -chdir="$dir" output -raw image_function_name)" live image \
        "123456789012.dkr.ecr.$AWS_REGION.amazonaws.com/dt-test-predictor@sha256:$(printf 'e%.0s' $(seq 64))" >/dev/null
      boto lambda "$(terraform -chdir="$dir" output -raw zip_function_name)" live zip "$dir/handler.zip" >/dev/null
      no_changes "$dir" "$h (after deploytools code+alias)"
      ;;
  esac
  destroy_root "$dir" "$h"
done

if [ "$with_examples" = 1 ]; then
  zip="$here/lambda_function/handler.zip"
  hash="$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$zip")"
  digest="sha256:$(printf 'a%.0s' $(seq 64))"
  export TF_VAR_deploytools_env=dev TF_VAR_deploytools_sandbox=true
  export TF_VAR_deploytools_packages="{\"api\":{\"path\":\"$zip\",\"sha256\":\"$hash\"},\"etl\":{\"path\":\"$zip\",\"sha256\":\"$hash\"}}"
  export TF_VAR_github_oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  for e in nlp-serving automl-lite prediction-api engagement-platform tastetrend-etl; do
    export TF_VAR_github_repository="acme/$e"
    export TF_VAR_deploytools_images="{\"api\":\"123456789012.dkr.ecr.$AWS_REGION.amazonaws.com/$e-dev-api@$digest\",\"predictor\":\"123456789012.dkr.ecr.$AWS_REGION.amazonaws.com/$e-dev-predictor@$digest\",\"trainer\":\"123456789012.dkr.ecr.$AWS_REGION.amazonaws.com/$e-dev-trainer@$digest\",\"scorer\":\"123456789012.dkr.ecr.$AWS_REGION.amazonaws.com/$e-dev-scorer@$digest\"}"
    run_root "$tf_root/examples/$e" "examples/$e" || continue
    destroy_root "$tf_root/examples/$e" "examples/$e"
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed; logs in $log" >&2
  exit 1
fi
echo "all checks passed; logs in $log"

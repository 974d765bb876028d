#!/usr/bin/env bash
# Deploy every project's stack of one environment: write the stack settings from the
# requests, then `pulumi preview` and `pulumi up` with the guardrail policy pack.
# Used by both platform pipelines after merge; run once per environment, dev first.
#
#   ci/platform/deploy-stacks.sh dev|staging|prod
#
# Expects Azure credentials for OIDC in the environment (ARM_USE_OIDC=true, ARM_CLIENT_ID,
# ARM_TENANT_ID, ARM_SUBSCRIPTION_ID; no client secret), a Pulumi backend
# (PULUMI_BACKEND_URL, e.g. azblob://pulumi-state) and optionally PULUMI_SECRETS_PROVIDER.
set -euo pipefail
environment="$1"
case "$environment" in dev|staging|prod) ;; *) echo "usage: $0 dev|staging|prod" >&2; exit 2 ;; esac
pulumi_version="3.272.0"  # the CLI that matches the pinned SDK (infra/requirements.txt)

if ! command -v pulumi >/dev/null 2>&1; then
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$pulumi_version"
  export PATH="$HOME/.pulumi/bin:$PATH"
fi
make -C infra setup
cd infra

# Stack settings come from the requests; a hand-edited stack file stops the deployment.
for request in projects/*.yaml; do
  .venv/bin/dsplatform request stacks "$request"
done

shopt -s nullglob
stack_files=(Pulumi.*-"$environment".yaml)
if [ "${#stack_files[@]}" -eq 0 ]; then
  echo "No stack for environment $environment."
  exit 0
fi
for file in "${stack_files[@]}"; do
  stack="${file#Pulumi.}"
  stack="${stack%.yaml}"
  echo "== stack $stack"
  pulumi stack select --create "$stack" ${PULUMI_SECRETS_PROVIDER:+--secrets-provider "$PULUMI_SECRETS_PROVIDER"}
  pulumi preview --stack "$stack" --policy-pack policy --diff --non-interactive
  pulumi up --stack "$stack" --policy-pack policy --yes --non-interactive
done

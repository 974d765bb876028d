#!/usr/bin/env bash
# Report explorations past or near their end date, and tear the expired ones down with
# `pulumi destroy` (docs/self-service.md, explorations). Used by both scheduled platform
# pipelines (ci/azure-devops/platform-expiry.yml, ci/github/platform-expiry.yml).
#
#   ci/platform/expire-explorations.sh [OUT=build/expiry]
#
# Writes OUT/report.txt in every case. Exit code: 0 done; 2 a request could not be read;
# any pulumi failure stops the run (nothing is skipped silently).
set -euo pipefail
out="${1:-build/expiry}"
pulumi_version="3.272.0"  # the CLI that matches the pinned SDK (infra/requirements.txt)
mkdir -p "$out"
make -C infra setup
dsplatform="$(pwd)/infra/.venv/bin/dsplatform"

"$dsplatform" expiry infra/projects | tee "$out/report.txt"
mapfile -t expired < <("$dsplatform" expiry infra/projects --stacks)
if [ "${#expired[@]}" -eq 0 ]; then
  echo "No expired exploration to tear down." | tee -a "$out/report.txt"
  exit 0
fi
if ! command -v pulumi >/dev/null 2>&1; then
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$pulumi_version"
  export PATH="$HOME/.pulumi/bin:$PATH"
fi
cd infra
for stack in "${expired[@]}"; do
  echo "== tearing down $stack" | tee -a "../$out/report.txt"
  pulumi stack select "$stack" ${PULUMI_SECRETS_PROVIDER:+--secrets-provider "$PULUMI_SECRETS_PROVIDER"}
  pulumi destroy --stack "$stack" --yes --non-interactive
  echo "destroyed $stack; remove its request file and Pulumi.$stack.yaml in a pull request" | tee -a "../$out/report.txt"
done

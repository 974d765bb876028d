#!/usr/bin/env bash
# The staging integration test of the bundle: run each sample's training job at the tiny
# size. `databricks bundle run` waits for the run and exits non-zero when any task fails,
# and so does this script; a bundle without any training job is an error, not a pass.
# Usage: pipelines/databricks/integration_test.sh <target> <run-as service principal id>
set -euo pipefail
target=${1:?usage: integration_test.sh <target> <run-as service principal id>}
run_as=${2:?usage: integration_test.sh <target> <run-as service principal id>}
cd "$(dirname "$0")/../.."

ran=0
# training: the batch-scoring sample; many_models: the many-models sample.
for job in training many_models; do
  if [ -f "pipelines/databricks/$job.yml" ]; then
    echo "databricks bundle run $job --target $target (size tiny)"
    databricks bundle run "$job" --target "$target" --var "run_as_service_principal=$run_as" --params size=tiny
    ran=$((ran + 1))
  fi
done
if [ "$ran" -eq 0 ]; then
  echo "error: no training job (pipelines/databricks/training.yml or many_models.yml) to run" >&2
  exit 1
fi

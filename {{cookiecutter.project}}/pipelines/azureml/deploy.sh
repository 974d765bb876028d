#!/usr/bin/env bash
# The Azure ML deployment path, one subcommand per CI step, shared by Azure DevOps and
# GitHub Actions. Run after `az login` (the CI's workload identity):
#   deploy.sh ensure-compute|train|register-model|deploy|smoke-test <dev|staging|prod> [size]
# Every failure exits non-zero with a message: a failed training job fails the build.
{%- set names = azure_names(cookiecutter.project) %}
set -euo pipefail

step="${1:?usage: deploy.sh <step> <dev|staging|prod> [size]}"
environment="${2:?usage: deploy.sh <step> <dev|staging|prod> [size]}"
size="${3:-reference}"
model="{{ cookiecutter.project }}-failure"
version_file=".azureml-model-version"

# Names as infra/ derives them (dsplatform.naming); LAKE_STORAGE_ACCOUNT may override the
# lake account when the platform team set a name suffix of its own.
case "$environment" in
{%- for env in ["dev", "staging", "prod"] %}
  {{ env }})
    resource_group="{{ names[env].resource_group }}"
    workspace="{{ names[env].machine_learning_workspace }}"
    aks_cluster="{{ names[env].aks_cluster }}"
    lake_account="${LAKE_STORAGE_ACCOUNT:-{{ names[env].storage_account }}}"
    online_endpoint="{{ names[env].online_endpoint }}"
    ;;
{%- endfor %}
  *)
    echo "error: environment '$environment' is not one of dev, staging, prod" >&2
    exit 2
    ;;
esac

az extension add --name ml --upgrade --only-show-errors
az configure --defaults group="$resource_group" workspace="$workspace"

case "$step" in
  ensure-compute)
    az ml compute show --name {{ names.dev.machine_learning_compute }} --output none 2>/dev/null \
      || az ml compute create --file .cloud/azureml/compute/cpu-cluster.yml
    if az aks show --name "$aks_cluster" --output none 2>/dev/null; then
      az ml compute show --name {{ names.dev.kubernetes_compute }} --output none 2>/dev/null \
        || az ml compute attach --file .cloud/azureml/compute/aks-scoring.yml \
          --resource-id "$(az aks show --name "$aks_cluster" --query id --output tsv)"
    fi
    az ml environment create --file .cloud/azureml/environment.yml
    ;;
  train)
    job=$(az ml job create --file pipelines/azureml/training.yml \
      --set inputs.size="$size" inputs.data_root="abfss://curated@${lake_account}.dfs.core.windows.net/{{ cookiecutter.project }}" \
      --query name --output tsv)
    echo "submitted pipeline job $job"
    # Streaming ends when the job ends, whatever its outcome: the status decides.
    az ml job stream --name "$job"
    status=$(az ml job show --name "$job" --query status --output tsv)
    if [ "$status" != "Completed" ]; then
      echo "error: training pipeline $job ended as $status; see Azure ML studio" >&2
      exit 1
    fi
    ;;
  register-model)
    # The train step registered the model through MLflow and validate tagged it; take the
    # newest version that passed validation, and record it for the deploy step.
    version=$(az ml model list --name "$model" \
      --query "max_by([?tags.validation_status=='passed'], &to_number(version)).version" --output tsv)
    if [ -z "$version" ]; then
      echo "error: no version of $model has passed validation; nothing to deploy" >&2
      exit 1
    fi
    az ml model update --name "$model" --version "$version" --set tags.deployed_from="${BUILD_SOURCEVERSION:-${GITHUB_SHA:-local}}"
    echo "$version" > "$version_file"
    echo "deploying $model version $version"
    ;;
  deploy)
    version=$(cat "$version_file")
    az ml online-endpoint show --name "$online_endpoint" --output none 2>/dev/null \
      || az ml online-endpoint create --file .cloud/azureml/endpoints/online/managed/endpoint.yml --set name="$online_endpoint"
    if az ml online-deployment show --name champion --endpoint-name "$online_endpoint" --output none 2>/dev/null; then
      az ml online-deployment update --file .cloud/azureml/endpoints/online/managed/deployment.yml \
        --set endpoint_name="$online_endpoint" model="azureml:$model:$version"
    else
      az ml online-deployment create --file .cloud/azureml/endpoints/online/managed/deployment.yml \
        --set endpoint_name="$online_endpoint" model="azureml:$model:$version" --all-traffic
    fi
    ;;
  smoke-test)
    response=$(az ml online-endpoint invoke --name "$online_endpoint" \
      --request-file .cloud/azureml/endpoints/online/sample-request.json)
    echo "$response"
    if ! echo "$response" | grep -q predictions; then
      echo "error: the endpoint answered without predictions" >&2
      exit 1
    fi
    ;;
  *)
    echo "error: step '$step' is not one of ensure-compute, train, register-model, deploy, smoke-test" >&2
    exit 2
    ;;
esac

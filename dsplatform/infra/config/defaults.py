"""What an environment gets when its project file says nothing: the one place defaults live.

dev is cheaper and public behind an IP allowlist, staging mirrors prod at lower scale,
prod is private. A project file overrides any of it per environment under
`environments.<env>` (merged by config.load). An exploration starts smaller still:
EXPLORATION_FEATURES, and EXPLORATION_COST_CENTER when it has no cost center yet.

Plain data, no pydantic: the schema (config.schema) validates the merged result.
"""

from __future__ import annotations

from typing import Any

# The cost-center tag of an exploration that has none yet: cost reports group them together.
EXPLORATION_COST_CENTER = "exploration"

# An exploration's services unless its file turns more on: Azure ML only, no Databricks and
# no AKS, so a short-lived trial stays small and cheap.
EXPLORATION_FEATURES: dict[str, bool] = {"databricks": False, "aks": False, "azureml": True}


# The one place environment defaults live. dev is cheap and reachable from the office
# allowlist; staging mirrors prod at lower scale; prod is private.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "private_networking": False,
        "network": {
            "vnet_cidr": "10.10.0.0/16",
            "databricks_host_subnet": "10.10.0.0/22",
            "databricks_container_subnet": "10.10.4.0/22",
            "private_endpoint_subnet": "10.10.8.0/24",
            "aks_subnet": "10.10.16.0/20",
        },
        "azureml": {"cpu_cluster_vm_size": "Standard_DS3_v2", "cpu_cluster_max_nodes": 2},
        "aks": {
            "system_pool": {"vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
            "user_pool": {"vm_size": "Standard_D4s_v5", "min_count": 0, "max_count": 2},
        },
        "databricks": {
            "sku": "premium",
            "allowed_node_types": ["Standard_DS3_v2"],
            "autotermination_minutes": 30,
            "max_workers": 4,
        },
        "log_retention_days": 30,
        "budget": {"amount": 1000},
    },
    "staging": {
        "private_networking": True,
        "network": {
            "vnet_cidr": "10.20.0.0/16",
            "databricks_host_subnet": "10.20.0.0/22",
            "databricks_container_subnet": "10.20.4.0/22",
            "private_endpoint_subnet": "10.20.8.0/24",
            "aks_subnet": "10.20.16.0/20",
        },
        "azureml": {"cpu_cluster_vm_size": "Standard_DS3_v2", "cpu_cluster_max_nodes": 4},
        "aks": {
            "system_pool": {"vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3},
            "user_pool": {"vm_size": "Standard_D4s_v5", "min_count": 0, "max_count": 3},
        },
        "databricks": {
            "sku": "premium",
            "allowed_node_types": ["Standard_DS3_v2", "Standard_DS4_v2"],
            "autotermination_minutes": 30,
            "max_workers": 8,
        },
        "log_retention_days": 30,
        "budget": {"amount": 2000},
    },
    "prod": {
        "private_networking": True,
        "network": {
            "vnet_cidr": "10.30.0.0/16",
            "databricks_host_subnet": "10.30.0.0/22",
            "databricks_container_subnet": "10.30.4.0/22",
            "private_endpoint_subnet": "10.30.8.0/24",
            "aks_subnet": "10.30.16.0/20",
        },
        "azureml": {"cpu_cluster_vm_size": "Standard_DS4_v2", "cpu_cluster_max_nodes": 8},
        "aks": {
            "system_pool": {"vm_size": "Standard_D4s_v5", "min_count": 2, "max_count": 3},
            "user_pool": {"vm_size": "Standard_D8s_v5", "min_count": 1, "max_count": 6},
        },
        "databricks": {
            "sku": "premium",
            "allowed_node_types": ["Standard_DS3_v2", "Standard_DS4_v2", "Standard_DS5_v2"],
            "autotermination_minutes": 60,
            "max_workers": 16,
        },
        "log_retention_days": 90,
        "budget": {"amount": 5000},
    },
}

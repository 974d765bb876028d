"""Components take narrow Args, and "is this environment private" is decided in one place.

program.py reads StackSettings.is_private once and passes it to every component as
`private`, with the private network exactly when it is true. These tests build components
on their own from their Args (no StackSettings, no program), check that a component follows
the `private` it is given, and that a wiring mistake (private without a network, or a
network for a public component) fails when the Args are made, not at deploy time.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pulumi
import pytest

from dsplatform.infra.components.ai_services import AIServicesArgs
from dsplatform.infra.components.container_registry import ContainerRegistryArgs
from dsplatform.infra.components.data_factory import DataFactoryArgs
from dsplatform.infra.components.data_lake import DataLakeArgs
from dsplatform.infra.components.databricks import DatabricksWorkspaceArgs
from dsplatform.infra.components.key_vault import KeyVault, KeyVaultArgs
from dsplatform.infra.components.kubernetes import KubernetesClusterArgs
from dsplatform.infra.components.machine_learning import MachineLearningWorkspaceArgs
from dsplatform.infra.components.network import Network, NetworkArgs
from dsplatform.infra.config import ENVIRONMENT_DEFAULTS, AksSettings, AzureMLSettings, NetworkSettings
from dsplatform.naming import resource_names

from .conftest import read, use_mocks

COMPONENTS = Path(__file__).resolve().parents[2] / "dsplatform" / "infra" / "components"
NAMES = resource_names("churn", "dev")
PLACED = {
    "names": NAMES,
    "location": "westeurope",
    "tags": {"project": "churn"},
    "resource_group_name": "rg-churn-dev",
    "log_analytics_workspace_id": "/subscriptions/x/resourceGroups/rg-churn-dev/providers/Microsoft.OperationalInsights/workspaces/log",
}
# What each Args needs besides PLACED, `private` and `network`.
EXTRAS = {
    KeyVaultArgs: {"tenant_id": "00000000-0000-0000-0000-000000000001", "production": False},
    ContainerRegistryArgs: {"production": False},
    DataLakeArgs: {"production": False},
    MachineLearningWorkspaceArgs: {
        "application_insights_id": "appi",
        "workload_identity_id": "id",
        "key_vault_id": "kv",
        "container_registry_id": "acr",
        "data_classification": "internal",
        "cpu_cluster": AzureMLSettings(**ENVIRONMENT_DEFAULTS["dev"]["azureml"]),
        "production": False,
    },
    KubernetesClusterArgs: {
        "stack_name": "churn-dev",
        "workload_identity_name": "id-churn-dev",
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "aks": AksSettings(**ENVIRONMENT_DEFAULTS["dev"]["aks"]),
        "platform_admins_object_id": "22222222-2222-4222-8222-222222222222",
        "production": False,
    },
    DataFactoryArgs: {"lake_account_id": "st", "machine_learning_workspace_id": "mlw"},
    AIServicesArgs: {},
}


@pytest.mark.parametrize("args_class", list(EXTRAS), ids=lambda cls: cls.__name__)
def test_a_private_component_needs_the_network_and_a_public_one_refuses_it(args_class):
    extras = {**PLACED, **EXTRAS[args_class]}
    component = args_class.__name__.removesuffix("Args")
    with pytest.raises(ValueError, match=f"^{component}: private is true but no private network"):
        args_class(**extras, private=True)
    with pytest.raises(ValueError, match=f"^{component}: private is false but a private network was given"):
        args_class(**extras, private=False, network=object())
    # The consistent pairs are accepted.
    assert args_class(**extras, private=False).network is None
    assert args_class(**extras, private=True, network=object()).private is True


def test_databricks_is_injected_in_public_environments_too_but_private_needs_the_network():
    """Its network is the injection VNet, which public environments with Databricks have as
    well; only a private workspace without it is a mistake."""
    extras = {**PLACED, "subscription_id": "s", "sku": "premium"}
    assert DatabricksWorkspaceArgs(**extras, private=False, network=object()).private is False
    with pytest.raises(ValueError, match=r"^DatabricksWorkspace: private is true but no network"):
        DatabricksWorkspaceArgs(**extras, private=True)


def _network() -> Network:
    return Network(
        "net",
        NetworkArgs(**PLACED, cidrs=NetworkSettings(**ENVIRONMENT_DEFAULTS["prod"]["network"]), production=False),
    )


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_a_key_vault_built_from_its_args_alone_follows_private(example_settings, private):
    use_mocks(example_settings["dev"])

    @pulumi.runtime.test
    def run():
        network = _network() if private else None
        vault = KeyVault(
            "kv",
            KeyVaultArgs(
                **PLACED,
                tenant_id="00000000-0000-0000-0000-000000000001",
                production=False,
                private=private,
                allowed_ip_ranges=("203.0.113.0/24",),
                network=network,
            ),
        )
        assert (vault.private_endpoint is not None) is private

        def check(properties):
            assert read(properties, "public_network_access") == ("Disabled" if private else "Enabled")
            rules = [read(rule, "value") for rule in read(properties, "network_acls.ip_rules")]
            assert rules == ([] if private else ["203.0.113.0/24"])

        return vault.vault.properties.apply(check)

    run()


def _component_modules() -> list[Path]:
    return sorted(path for path in COMPONENTS.glob("*.py") if path.name not in {"__init__.py", "common.py"})


@pytest.mark.parametrize("path", _component_modules(), ids=lambda path: path.stem)
def test_no_component_reads_the_whole_stack_settings(path):
    """Only access.py's planned_grants (the role table as data, not a component) reads
    StackSettings; every component class reads its Args, so privacy, production and names
    come from program.py."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("ComponentResource") for base in node.bases)
    ]
    assert classes, f"{path.name} declares no component"
    for component in classes:
        text = ast.unparse(component)
        assert "StackSettings" not in text and "settings." not in text, f"{component.name} reads settings"
        init = next(node for node in component.body if isinstance(node, ast.FunctionDef) and node.name == "__init__")
        assert [arg.arg for arg in init.args.args][:3] == ["self", "name", "args"], f"{component.name}.__init__ takes (name, args)"
        annotation = ast.unparse(init.args.args[2].annotation)
        assert annotation.endswith("Args"), f"{component.name}'s args are {annotation}"
        if annotation in {node.name for node in tree.body if isinstance(node, ast.ClassDef)}:
            args_class = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == annotation)
            assert "StackSettings" not in ast.unparse(args_class), f"{annotation} holds StackSettings"


def test_the_args_hold_values_not_the_settings():
    """Every Args field is a value a component reads, never the whole StackSettings."""
    for args_class in [*EXTRAS, DatabricksWorkspaceArgs, NetworkArgs]:
        names = {field.name for field in dataclasses.fields(args_class)}
        assert "settings" not in names, args_class.__name__

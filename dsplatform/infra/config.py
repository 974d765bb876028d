"""The project file's schema: the single source of truth for a project's environments.

Why pydantic and one module: Azure/mlops-v2 parsed its config booleans as strings (so
"false" was true) and spread settings over three places. Here one typed schema is read by
the Pulumi program, the offline plan, and later the request CLI and CI, and every
problem is reported as `field.path: what is wrong (expected form)` without a traceback.

Environment defaults live in ENVIRONMENT_DEFAULTS and nowhere else: dev is cheaper and
public behind an IP allowlist, prod is private. A project file overrides them per
environment under `environments.<env>`.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from dsplatform.infra.guardrails import RULE_IDS, WaiverTerms
from dsplatform.infra.platform_policy import POLICY_PATH, PlatformPolicyError, platform_policy
from dsplatform.naming import (
    NAME_SUFFIX_FORM,
    PROJECT_SLUG_FORM,
    ResourceNames,
    name_suffix_problems,
    project_slug_problems,
    resource_names,
)
from dsplatform.safe_yaml import Document, DocumentError, ProjectFileLoader, load_document  # noqa: F401 (re-exported)
from dsplatform.vocabulary import (
    CHOICES,
    DATA_CLASSIFICATIONS,
    ENVIRONMENTS,
    EXPLORATION_ENVIRONMENTS,
    PAIRED_REGIONS,
    REQUEST_KINDS,
    REQUIRED_ENVIRONMENTS,
    email_problems,
    location_problems,
    single_line_problems,
    tag_value_problems,
)

GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
GUID_FORM = "a GUID such as 00000000-0000-0000-0000-000000000000"
# The Azure Databricks first-party application. Its service principal's object id differs
# per tenant, so the project file must give it (see docs/infra.md).
AZURE_DATABRICKS_APPLICATION_ID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"


class _Strict(BaseModel):
    # extra="forbid": a misspelt key must fail loudly, not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _guid(value: str) -> str:
    if not GUID_PATTERN.match(value):
        raise ValueError(f"'{value}' is not {GUID_FORM}")
    return value.lower()


def _single_line(value: str, max_length: int) -> str:
    """Names and free text are shown in review comments and logs: a line break, a bidi
    override or a zero-width character there could hide or move what a reviewer reads."""
    problems = single_line_problems(value, max_length)
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _email(value: str) -> str:
    problems = email_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _tag_value(value: str) -> str:
    problems = tag_value_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


class Tags(_Strict):
    """Tags every resource carries; `project` and `environment` are added from the stack.

    owner and cost_center are required of a project. An exploration exists precisely
    because there is no cost center or formal owner yet: when it leaves them out, the
    owner tag is its contact e-mail and the cost center is EXPLORATION_COST_CENTER."""

    owner: str | None = Field(default=None, description="the owning team or person, as an Azure tag value (required for a project)")
    cost_center: str | None = Field(default=None, description="the cost center, as an Azure tag value (required for a project)")
    data_classification: Literal[DATA_CLASSIFICATIONS] = Field(description=f"one of {', '.join(DATA_CLASSIFICATIONS)}")

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        return None if value is None else _tag_value(value)


# The cost-center tag of an exploration that has none yet: cost reports group them together.
EXPLORATION_COST_CENTER = "exploration"


class Principal(_Strict):
    """An Entra ID principal. Role assignments need the object id; Databricks grants need
    the display name (groups) or the application id (service principals)."""

    object_id: str = Field(description=GUID_FORM)
    display_name: str = Field(min_length=1, max_length=256, description="the principal's display name in Entra ID")

    @field_validator("object_id")
    @classmethod
    def _object_id(cls, value: str) -> str:
        return _guid(value)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return _single_line(value, 256)


class ServicePrincipal(Principal):
    client_id: str = Field(description=f"the application (client) id, {GUID_FORM}")

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        return _guid(value)


class Principals(_Strict):
    data_science_group: Principal = Field(description="the Entra ID group of the project's data scientists")
    ci_service_principal: ServicePrincipal = Field(description="the CI service principal that deploys (OIDC federated)")
    platform_admins: Principal = Field(description="the Entra ID group of platform administrators")
    azure_databricks_object_id: str | None = Field(
        default=None,
        description=(
            f"{GUID_FORM}: the object id of the AzureDatabricks application ({AZURE_DATABRICKS_APPLICATION_ID}) "
            "in your tenant; required when databricks is on"
        ),
    )

    @field_validator("azure_databricks_object_id")
    @classmethod
    def _databricks_object_id(cls, value: str | None) -> str | None:
        return None if value is None else _guid(value)


class Features(_Strict):
    """Which services a project environment gets."""

    # Strict: "no" in quotes is text, not false (mlops-v2 read its config booleans as strings).
    databricks: StrictBool = Field(default=True, description="true or false")
    azureml: StrictBool = Field(default=True, description="true or false")
    aks: StrictBool = Field(default=True, description="true or false")
    # Off unless asked for: each is a paid service a team opts into (docs/self-service.md).
    data_factory: StrictBool = Field(
        default=False, description="true or false: a Data Factory that runs the Azure ML batch scoring (needs azureml)"
    )
    ai_services: StrictBool = Field(default=False, description="true or false: an Azure AI services account for the project")

    @model_validator(mode="after")
    def _factory_needs_azureml(self) -> Features:
        """The factory only orchestrates Azure ML batch scoring; without a workspace it would
        have nothing to run and no role to hold."""
        if self.data_factory and not self.azureml:
            raise ValueError("data_factory is true but azureml is false; the factory runs Azure ML batch scoring, so turn azureml on")
        return self


# RFC 1918, loopback, link-local and carrier-grade NAT: never seen by an Azure firewall.
_NON_PUBLIC_RANGES = tuple(
    ipaddress.IPv4Network(block)
    for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8")
)


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"'{value}' is not an IPv4 CIDR block such as 10.10.0.0/16 ({error})") from None


def allowlist_size(networks: list[ipaddress.IPv4Network]) -> int:
    """Distinct addresses the ranges admit together (overlaps counted once)."""
    return sum(block.num_addresses for block in ipaddress.collapse_addresses(networks))


class NetworkSettings(_Strict):
    """Address ranges used in private networking. Each environment gets its own range so
    that they can be peered with a hub later without overlapping."""

    vnet_cidr: str = Field(description="an IPv4 CIDR block such as 10.10.0.0/16")
    databricks_host_subnet: str = Field(description="an IPv4 CIDR block of /26 or larger inside vnet_cidr")
    databricks_container_subnet: str = Field(description="an IPv4 CIDR block of /26 or larger inside vnet_cidr")
    private_endpoint_subnet: str = Field(description="an IPv4 CIDR block of /28 or larger inside vnet_cidr")
    aks_subnet: str = Field(description="an IPv4 CIDR block of /24 or larger inside vnet_cidr")

    @field_validator("*")
    @classmethod
    def _is_cidr(cls, value: str) -> str:
        _network(value)
        return value

    @model_validator(mode="after")
    def _subnets_fit(self) -> NetworkSettings:
        vnet = _network(self.vnet_cidr)
        minimum_prefix = {
            "databricks_host_subnet": 26,
            "databricks_container_subnet": 26,
            "private_endpoint_subnet": 28,
            "aks_subnet": 24,
        }
        subnets = {field: _network(getattr(self, field)) for field in minimum_prefix}
        problems = []
        for field, subnet in subnets.items():
            if not subnet.subnet_of(vnet):
                problems.append(f"{field} {subnet} is not inside vnet_cidr {vnet}")
            if subnet.prefixlen > minimum_prefix[field]:
                problems.append(f"{field} {subnet} is smaller than /{minimum_prefix[field]}")
        fields = list(subnets)
        for index, first in enumerate(fields):
            for second in fields[index + 1 :]:
                if subnets[first].overlaps(subnets[second]):
                    problems.append(f"{first} {subnets[first]} overlaps {second} {subnets[second]}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AzureMLSettings(_Strict):
    cpu_cluster_vm_size: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$", description="an Azure VM size such as Standard_DS3_v2")
    cpu_cluster_max_nodes: int = Field(ge=1, le=100, description="an integer from 1 to 100")


class NodePool(_Strict):
    vm_size: str = Field(pattern=r"^Standard_[A-Za-z0-9_]+$", description="an Azure VM size such as Standard_D4s_v5")
    min_count: int = Field(ge=0, le=100, description="an integer from 0 to 100")
    max_count: int = Field(ge=1, le=100, description="an integer from 1 to 100, at least min_count")

    @model_validator(mode="after")
    def _ordered(self) -> NodePool:
        if self.max_count < self.min_count:
            raise ValueError(f"max_count {self.max_count} is below min_count {self.min_count}")
        return self


class AksSettings(_Strict):
    kubernetes_version: str | None = Field(
        default=None, pattern=r"^1\.\d+(\.\d+)?$", description="a version such as 1.31, or omit for the default"
    )
    system_pool: NodePool = Field(description="the system node pool")
    user_pool: NodePool = Field(description="the scoring node pool")
    # The Azure ML control plane calls the API server from the AzureMachineLearning service tag's
    # ranges of the region and its paired region ("Deploy Azure Machine Learning extension on AKS",
    # Limitations). Microsoft publishes them weekly (Service Tags JSON, or
    # `az network list-service-tags --location <region>`), so they are data, not code.
    azureml_control_plane_ip_ranges: dict[str, list[str]] = Field(
        default_factory=dict,
        description="a mapping of region name to the AzureMachineLearning.<Region> service tag's IPv4 CIDR blocks, "
        "for the project's region and its paired region",
    )

    @field_validator("azureml_control_plane_ip_ranges")
    @classmethod
    def _control_plane_ranges(cls, ranges: dict[str, list[str]]) -> dict[str, list[str]]:
        for region, blocks in ranges.items():
            problems = location_problems(region) if region not in PAIRED_REGIONS.values() else []
            if problems:
                raise ValueError(problems[0])
            for block in blocks:
                _network(block if "/" in block else f"{block}/32")
        return ranges

    @field_validator("system_pool")
    @classmethod
    def _system_pool_runs(cls, pool: NodePool) -> NodePool:
        if pool.min_count < 1:
            raise ValueError("min_count must be at least 1: AKS needs a running system node")
        return pool


class DatabricksSettings(_Strict):
    sku: Literal["premium", "trial"] = Field(description="premium or trial (Unity Catalog needs premium features)")
    allowed_node_types: list[str] = Field(min_length=1, description="a non-empty list of VM sizes such as Standard_DS3_v2")
    autotermination_minutes: int = Field(ge=10, le=240, description="an integer from 10 to 240")
    max_workers: int = Field(ge=1, le=200, description="an integer from 1 to 200")
    # Pinned so a run never silently picks up another credential (Databricks unified auth);
    # Key Vault-backed secret scopes need an Entra ID type, never a PAT.
    provider_auth_type: Literal["azure-cli", "azure-msi", "azure-client-secret", "github-oidc-azure", "azure-devops-oidc"] = Field(
        default="azure-cli",
        description="the pulumi-databricks provider's auth_type: azure-cli, azure-msi, azure-client-secret, github-oidc-azure or azure-devops-oidc",
    )


class BudgetSettings(_Strict):
    """The environment's monthly consumption budget (azure-native consumption.Budget on its
    resource group). Alerts go to the request's contact and owners plus contact_emails."""

    amount: float = Field(gt=0, le=10_000_000, description="the monthly amount in the billing currency, greater than 0, e.g. 500")
    thresholds: list[int] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="1 to 5 alert thresholds in percent of the amount (each 1 to 1000), or omit for "
        "budget_alert_thresholds in infra/platform.yaml (80 and 100)",
    )
    contact_emails: list[str] = Field(default_factory=list, description="more e-mail addresses to alert, e.g. finance@example.com")

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, values: list[int] | None) -> list[int] | None:
        if values is None:
            return None
        for threshold in values:
            if not 0 < threshold <= 1000:
                raise ValueError(f"{threshold} is outside 1 to 1000; Azure accepts budget thresholds up to 1000 percent")
        if len(set(values)) != len(values):
            raise ValueError("lists a threshold twice; give each once")
        return sorted(values)

    @field_validator("contact_emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for email in values:
            _email(email)
        return values


class SharedTestAks(_Strict):
    """The platform's shared test AKS cluster a project stress-tests on before production AKS.

    Named by the platform project that provisions it (infra/projects/platform-test-aks.yaml),
    so its resource group and cluster names come from the naming module and cannot drift."""

    project: str = Field(default="platform-test-aks", description=f"the platform project that provisions the cluster: {PROJECT_SLUG_FORM}")
    environment: Literal[ENVIRONMENTS] = Field(default="dev", description="the platform project's environment that holds the cluster")

    @field_validator("project")
    @classmethod
    def _slug(cls, value: str) -> str:
        problems = project_slug_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def names(self) -> ResourceNames:
        return resource_names(self.project, self.environment)


class EnvironmentSettings(_Strict):
    """Everything that may differ between environments, fully resolved."""

    features: Features = Field(default_factory=Features, description="databricks, azureml and aks switches")
    private_networking: StrictBool = Field(
        description="true (private endpoints, VNet injection) or false (public behind allowed_ip_ranges)"
    )
    allowed_ip_ranges: list[str] = Field(
        default_factory=list,
        description="a list of public IPv4 addresses or CIDR blocks allowed to reach public endpoints, "
        "each no broader than allowlist_max_prefix (/16, infra/platform.yaml)",
    )
    name_suffix: str | None = Field(default=None, description=f"{NAME_SUFFIX_FORM}, or omit for the derived suffix")
    network: NetworkSettings
    azureml: AzureMLSettings
    aks: AksSettings
    databricks: DatabricksSettings
    log_retention_days: int = Field(ge=30, le=730, description="an integer from 30 to 730")
    budget: BudgetSettings = Field(description="the monthly consumption budget: amount, thresholds, contact_emails")
    compute_instance_vm_size: str = Field(
        default="Standard_DS3_v2",
        pattern=r"^Standard_[A-Za-z0-9_]+$",
        description="the VM size of each data scientist's personal compute instance, e.g. Standard_DS3_v2",
    )
    compute_instance_idle_minutes: int = Field(
        default=60,
        ge=15,
        le=4320,
        description="minutes of inactivity before a personal compute instance shuts down, 15 to 4320 (3 days)",
    )
    shared_test_aks: SharedTestAks | None = Field(
        default=None,
        description="the platform's shared test AKS cluster ({project, environment}): a namespace for this project "
        "and its CI identity's roles there, or omit for none",
    )

    @field_validator("allowed_ip_ranges")
    @classmethod
    def _ip_ranges(cls, values: list[str]) -> list[str]:
        """Each entry public and no broader than the platform's prefix, and all together no
        more addresses than its limit: `[0.0.0.0/1, 128.0.0.0/1]` is the whole internet in
        two entries that each look like a range (infra/platform.yaml)."""
        policy = platform_policy()
        networks = []
        for value in values:
            network = _network(value if "/" in value else f"{value}/32")
            if any(network.subnet_of(blocked) for blocked in _NON_PUBLIC_RANGES):
                raise ValueError(f"'{value}' is a private range; Azure firewalls take public addresses only")
            if network.prefixlen < policy.allowlist_max_prefix:
                raise ValueError(
                    f"'{value}' admits {network.num_addresses:,} addresses, broader than /{policy.allowlist_max_prefix}; "
                    f"list the offices' own ranges, each /{policy.allowlist_max_prefix} or narrower "
                    "(allowlist_max_prefix in infra/platform.yaml)"
                )
            networks.append(network)
        total = allowlist_size(networks)
        if total > policy.allowlist_max_addresses:
            raise ValueError(
                f"admits {total:,} addresses together, more than the platform's {policy.allowlist_max_addresses:,}; "
                "list fewer or narrower ranges (allowlist_max_addresses in infra/platform.yaml)"
            )
        return values

    @field_validator("name_suffix")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and name_suffix_problems(value):
            raise ValueError(name_suffix_problems(value)[0])
        return value

    @model_validator(mode="after")
    def _public_needs_allowlist(self) -> EnvironmentSettings:
        if not self.private_networking and not self.allowed_ip_ranges:
            raise ValueError(
                "private_networking is false but allowed_ip_ranges is empty; list the public addresses "
                "allowed in, or set private_networking: true"
            )
        return self


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


class Waiver(_Strict):
    """An accepted exception to one guardrail, with a named approver and an end date.
    After `expires` the violation counts again, so waivers cannot silently become policy."""

    rule: str = Field(description="the id of a guardrail rule, e.g. acr-admin-user-disabled (catalogue: docs/guardrails.md)")
    reason: str = Field(min_length=10, max_length=500, description="why the exception is needed, in 10 to 500 characters")
    approver: str = Field(
        description="the e-mail address of an approver outside the team (not the contact or an owner), e.g. security@example.com"
    )
    expires: date = Field(
        description="the last day the waiver applies, as YYYY-MM-DD, at most waiver_max_days (infra/platform.yaml) after the plan date"
    )
    resource: str | None = Field(default=None, description="the Azure name of the one resource it covers, or omit for every resource")
    environments: list[Literal[ENVIRONMENTS]] | None = Field(
        default=None, min_length=1, description="a list of dev, staging, prod, or omit for every environment"
    )

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in RULE_IDS:
            close = difflib.get_close_matches(value, sorted(RULE_IDS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (see docs/guardrails.md for the rule ids)"
            raise ValueError(f"'{value}' is not a guardrail rule{hint}")
        return value

    @field_validator("approver")
    @classmethod
    def _approver(cls, value: str) -> str:
        return _email(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _single_line(value, 500)

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: str | None) -> str | None:
        return None if value is None else _single_line(value, 128)

    def terms(self) -> WaiverTerms:
        return WaiverTerms(
            self.rule,
            self.reason,
            self.approver,
            self.expires,
            self.resource,
            tuple(self.environments) if self.environments is not None else None,
        )


class Request(_Strict):
    """What a team asks for beyond the infrastructure: who they are and the repository
    `dsplatform request scaffold` generates for them (its cookiecutter answers)."""

    display_name: str = Field(min_length=1, max_length=80, description="the project's human name, e.g. Predictive Maintenance")
    description: str = Field(default="", max_length=300, description="one line of at most 300 characters")
    contact_email: str = Field(description="the team's e-mail address, e.g. data-science@example.com")
    owners: list[str] = Field(min_length=1, description="a non-empty list of the accountable people's e-mail addresses")
    cicd: str = Field(default="azure_devops", description=f"one of {', '.join(CHOICES['cicd'])}")
    python_version: str = Field(default="3.11", description=f"one of {', '.join(CHOICES['python_version'])}")
    sample: str = Field(default="both", description=f"the sample pipelines to start from: one of {', '.join(CHOICES['sample'])}")

    @field_validator("contact_email")
    @classmethod
    def _contact(cls, value: str) -> str:
        return _email(value)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return _single_line(value, 80)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _single_line(value, 300)

    @field_validator("owners")
    @classmethod
    def _owners(cls, values: list[str]) -> list[str]:
        for owner in values:
            _email(owner)
        if len(set(values)) != len(values):
            raise ValueError("lists an owner twice; give each person once")
        return values

    @field_validator("cicd", "python_version", "sample")
    @classmethod
    def _choice(cls, value: str, info) -> str:
        allowed = CHOICES[info.field_name]
        if value not in allowed:
            raise ValueError(f"'{value}' is not one of {', '.join(allowed)}")
        return value


# A storage account, or one container in it, by ARM id: what a data product grants reads on.
STORAGE_SCOPE_PATTERN = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w().-]{1,90}/providers/Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}"
    r"(/blobServices/default/containers/[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?)?$"
)
STORAGE_SCOPE_FORM = (
    "the ARM id of a storage account or container, e.g. /subscriptions/<guid>/resourceGroups/rg-sales/providers/"
    "Microsoft.Storage/storageAccounts/stsales/blobServices/default/containers/curated"
)


class DataProduct(_Strict):
    """A data product the team may read (never write): its data scientists and the ML
    workspace identity get Storage Blob Data Reader on `storage_scope`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$", description="a short lowercase name, e.g. sales-curated")
    storage_scope: str = Field(description=STORAGE_SCOPE_FORM)

    @field_validator("storage_scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        if not STORAGE_SCOPE_PATTERN.match(value):
            raise ValueError(f"'{_single_line(value[:200], 200)}' is not {STORAGE_SCOPE_FORM}")
        return value


class ProjectFile(_Strict):
    """The file under infra/projects/ as written by a team (overrides not yet merged)."""

    project: str = Field(description=PROJECT_SLUG_FORM)
    kind: Literal[REQUEST_KINDS] = Field(
        default="project",
        description="project (dev and prod, staging optional) or exploration (one non-prod environment, an end_date "
        "and a budget cap; docs/self-service.md)",
    )
    end_date: date | None = Field(
        default=None,
        description="an exploration's last day, as YYYY-MM-DD, at most exploration_max_days (infra/platform.yaml) "
        "after the plan date; the platform's expiry pipeline tears it down after that",
    )
    location: str = Field(description="a lowercase Azure region name such as westeurope")
    tags: Tags
    principals: Principals
    features: Features = Field(default_factory=Features, description="databricks, azureml and aks switches")
    environments: dict[str, dict[str, Any] | None] = Field(
        description="a mapping with dev and prod (staging optional) to per-environment overrides"
    )
    request: Request | None = Field(default=None, description="the team's details and repository answers (for request scaffold)")
    data_scientists: list[Principal] = Field(
        default_factory=list,
        description="the data scientists (object_id, display_name) who each get a personal Azure ML compute instance in dev",
    )
    data_products: list[DataProduct] = Field(
        default_factory=list, description="data products (name, storage_scope) the team may read, never write"
    )
    waivers: list[Waiver] = Field(default_factory=list, description="a list of guardrail waivers (rule, reason, approver, expires)")

    @model_validator(mode="before")
    @classmethod
    def _exploration_tags(cls, data: Any) -> Any:
        """An exploration without an owner or cost center tags its resources with its
        contact e-mail and EXPLORATION_COST_CENTER, so every tag rule still holds."""
        if not isinstance(data, dict) or data.get("kind") != "exploration" or not isinstance(data.get("tags"), dict):
            return data
        tags = dict(data["tags"])
        request = data.get("request") if isinstance(data.get("request"), dict) else {}
        contact = request.get("contact_email")
        if tags.get("owner") is None and isinstance(contact, str) and not email_problems(contact):
            tags["owner"] = contact
        if tags.get("cost_center") is None:
            tags["cost_center"] = EXPLORATION_COST_CENTER
        return {**data, "tags": tags}

    @field_validator("data_scientists")
    @classmethod
    def _distinct_people(cls, values: list[Principal]) -> list[Principal]:
        ids = [person.object_id for person in values]
        if len(set(ids)) != len(ids):
            raise ValueError("lists an object_id twice; give each person once")
        return values

    @field_validator("data_products")
    @classmethod
    def _distinct_products(cls, values: list[DataProduct]) -> list[DataProduct]:
        names = [product.name for product in values]
        if len(set(names)) != len(names):
            raise ValueError("lists a data product name twice; give each once")
        return values

    @field_validator("project")
    @classmethod
    def _slug(cls, value: str) -> str:
        problems = project_slug_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        problems = location_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("environments")
    @classmethod
    def _environment_names(cls, value: dict[str, Any], info) -> dict[str, Any]:
        unknown = sorted(set(value) - set(ENVIRONMENTS))
        if unknown:
            raise ValueError(f"unknown environment {', '.join(unknown)}; use {', '.join(ENVIRONMENTS)}")
        if info.data.get("kind") == "exploration":
            return value  # one non-prod environment: kind_problems says so, at the key itself
        missing = [env for env in REQUIRED_ENVIRONMENTS if env not in value]
        if missing:
            raise ValueError(f"missing {' and '.join(missing)}; dev and prod are required, staging is optional")
        return value


class StackSettings(BaseModel):
    """One project environment, fully resolved: what the Pulumi program builds from."""

    model_config = ConfigDict(frozen=True)

    project: str
    environment: Literal[ENVIRONMENTS]
    location: str
    tags: Tags
    principals: Principals
    settings: EnvironmentSettings
    waivers: tuple[Waiver, ...] = ()
    kind: Literal[REQUEST_KINDS] = "project"
    end_date: date | None = None
    # Who the budget alerts: the request's contact and owners, then the budget's own list.
    budget_contacts: tuple[str, ...] = ()
    data_scientists: tuple[Principal, ...] = ()
    data_products: tuple[DataProduct, ...] = ()

    @property
    def budget_thresholds(self) -> tuple[int, ...]:
        """The request's thresholds, else the platform's defaults (infra/platform.yaml)."""
        chosen = self.settings.budget.thresholds
        return tuple(chosen) if chosen else tuple(sorted(platform_policy().budget_alert_thresholds))

    @property
    def personal_compute(self) -> tuple[Principal, ...]:
        """The data scientists who get a compute instance here: in dev (or an exploration's
        one environment) with Azure ML on; never in prod, where no person works by hand."""
        if self.is_production or not self.features.azureml:
            return ()
        return self.data_scientists if self.environment == "dev" or self.kind == "exploration" else ()

    def waiver_terms(self) -> list[WaiverTerms]:
        return [waiver.terms() for waiver in self.waivers]

    @property
    def stack_name(self) -> str:
        return f"{self.project}-{self.environment}"

    @property
    def names(self) -> ResourceNames:
        return resource_names(self.project, self.environment, self.settings.name_suffix)

    @property
    def features(self) -> Features:
        return self.settings.features

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    def resource_tags(self) -> dict[str, str]:
        return {
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
            "data-classification": self.tags.data_classification,
            "project": self.project,
            "environment": self.environment,
            "managed-by": "pulumi",
        }


class Problem(str):
    """One problem line (`field.path: message (expected form)`), remembering the path as
    a tuple so the request CLI can point at the file's line and column."""

    location: tuple[str | int, ...]

    def __new__(cls, text: str, location: tuple[str | int, ...] = ()) -> Problem:
        problem = super().__new__(cls, text)
        problem.location = tuple(location)
        return problem


class ProjectFileError(Exception):
    """Raised with every problem of a project file, one `field: message` line each."""

    def __init__(self, source: str, problems: list[str], lines: list[str] | None = None):
        self.source = source
        self.problems = problems
        # What a command prints: one line per problem, `file:line:column: field: message`
        # when the file was read (load_located), else `source: field: message`.
        self.lines = list(lines) if lines is not None else [f"{source}: {problem}" for problem in problems]
        super().__init__(f"{source} is invalid:\n" + "\n".join(f"  - {problem}" for problem in problems))


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _field_form(model: type[BaseModel] | None, location: tuple[Any, ...]) -> str | None:
    """Find the `description` (the expected form) of the field an error points at."""
    form = None
    for part in location:
        if isinstance(part, int) and model is not None:
            continue  # a list item: the item model's fields follow
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return form
        field = model.model_fields[part]
        form = field.description
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return form


def _describe(error: dict[str, Any], model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Problem:
    location = tuple(error["loc"])
    full_location = (*prefix, *location)
    # A key that is blank, padded or holds control characters or dots is shown quoted, so the line still names it.
    path = (
        ".".join(
            json.dumps(part)
            if isinstance(part, str) and (part != part.strip() or not part or not part.isprintable() or "." in part)
            else str(part)
            for part in full_location
        )
        or "(file)"
    )
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        message = _unknown_key_message(model, location)
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        message = f'YAML read {value!r} as a number; put the value in quotes as you mean it, e.g. {location[-1]}: "{value}"'
    elif error["type"] == "bool_type" and isinstance(value, str):
        message = f"'{value}' is text, not a boolean; write true or false without quotes"
    form = _field_form(model, location)
    if form and form not in message:
        message = f"{message} (expected {form})"
    return Problem(f"{path}: {message}", full_location)


def _model_at(model: type[BaseModel] | None, location: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose fields sit at `location` (list indexes skipped), or None."""
    for part in location:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return model


def _unknown_key_message(model: type[BaseModel], location: tuple[Any, ...]) -> str:
    """ "Did you mean" for a misspelt key (cost_centre -> cost_center), as regions have."""
    parent = _model_at(model, location[:-1])
    known = sorted(parent.model_fields) if parent is not None else []
    close = difflib.get_close_matches(str(location[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"is not a known setting (did you mean '{close[0]}'?)"
    if known:
        return f"is not a known setting; use one of {', '.join(known)}"
    return "is not a known setting (check the spelling)"


def _only_keys_in_the_file(problems: list[Problem], overrides: dict[str, Any] | None) -> list[Problem]:
    """An environment's settings merge the defaults, the top-level `features` and the
    environment's overrides. A bad top-level feature is reported once, at `features`,
    where it is written, not again at `environments.<env>.features` which the file
    does not have."""
    overrides = overrides or {}
    return [
        problem
        for problem in problems
        if not (len(problem.location) > 2 and problem.location[2] == "features" and "features" not in overrides)
    ]


def _problems(error: ValidationError, model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[str]:
    return [_describe(item, model, prefix) for item in error.errors(include_url=False)]


def resolve_environment(project_file: ProjectFile, environment: str, source: str = "project file") -> StackSettings:
    if environment not in project_file.environments:
        raise ProjectFileError(
            source,
            [
                Problem(
                    f"environments: has no '{environment}'; this file defines {', '.join(sorted(project_file.environments))}",
                    ("environments",),
                )
            ],
        )
    merged = _deep_merge(ENVIRONMENT_DEFAULTS[environment], {"features": project_file.features.model_dump()})
    merged = _deep_merge(merged, project_file.environments[environment] or {})
    try:
        settings = EnvironmentSettings.model_validate(merged)
    except ValidationError as error:
        problems = _problems(error, EnvironmentSettings, ("environments", environment))
        raise ProjectFileError(source, _only_keys_in_the_file(problems, project_file.environments[environment]) or problems) from None
    if project_file.kind == "exploration":
        # Small and cheap unless asked: no Databricks and no AKS unless the file turns them on.
        chosen = project_file.features.model_dump(include=project_file.features.model_fields_set)
        defaults = {"databricks": False, "aks": False, "azureml": True}
        merged = _deep_merge(ENVIRONMENT_DEFAULTS[environment], {"features": defaults | chosen})
        merged = _deep_merge(merged, project_file.environments[environment] or {})
        try:
            settings = EnvironmentSettings.model_validate(merged)
        except ValidationError as error:
            problems = _problems(error, EnvironmentSettings, ("environments", environment))
            raise ProjectFileError(source, _only_keys_in_the_file(problems, project_file.environments[environment]) or problems) from None
    if settings.features.databricks and project_file.principals.azure_databricks_object_id is None:
        raise ProjectFileError(
            source,
            [
                Problem(
                    "principals.azure_databricks_object_id: is required when databricks is on "
                    f"(expected {Principals.model_fields['azure_databricks_object_id'].description})",
                    ("principals",),
                )
            ],
        )
    return StackSettings(
        project=project_file.project,
        environment=environment,
        location=project_file.location,
        tags=project_file.tags,
        principals=project_file.principals,
        settings=settings,
        waivers=tuple(project_file.waivers),
        kind=project_file.kind,
        end_date=project_file.end_date,
        budget_contacts=tuple(
            dict.fromkeys(
                [*([request.contact_email, *request.owners] if (request := project_file.request) else []), *settings.budget.contact_emails]
            )
        ),
        data_scientists=tuple(project_file.data_scientists),
        data_products=tuple(project_file.data_products),
    )


def _raw_environment_problems(data: dict[str, Any]) -> list[str]:
    environments = data.get("environments")
    features = data.get("features") if isinstance(data.get("features"), dict) else {}
    if not isinstance(environments, dict):
        return []
    problems = []
    for environment, overrides in environments.items():
        if environment not in ENVIRONMENT_DEFAULTS or not isinstance(overrides, (dict, type(None))):
            continue
        merged = _deep_merge(_deep_merge(ENVIRONMENT_DEFAULTS[environment], {"features": features}), overrides or {})
        try:
            EnvironmentSettings.model_validate(merged)
        except ValidationError as error:
            problems += _only_keys_in_the_file(_problems(error, EnvironmentSettings, ("environments", environment)), overrides)
    return problems


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def requester_emails(data: dict[str, Any]) -> set[str]:
    """Everyone the request speaks for, lowercased: its contact, its owners, and the owner
    tag when it is an e-mail address. None of them may approve the request's waivers.
    Read from the raw file, so these problems show even when others are in the file too."""
    request, tags = _mapping(data.get("request")), _mapping(data.get("tags"))
    owners = request.get("owners") if isinstance(request.get("owners"), list) else []
    candidates = [tags.get("owner"), request.get("contact_email"), *owners]
    return {str(email).strip().lower() for email in candidates if isinstance(email, str) and not email_problems(email)}


def waiver_limit_problems(data: dict[str, Any], today: date, max_days: int) -> list[Problem]:
    """A waiver is someone else's decision, for a bounded time: the approver is not one of
    the requesters (compared case-insensitively), and the expiry is at most `max_days`
    (waiver_max_days in infra/platform.yaml) after the plan date. Values the schema
    refuses anyway (not an e-mail, not a date) are left to its own message."""
    problems = []
    requesters = requester_emails(data)
    latest = today + timedelta(days=max_days)
    waivers = data.get("waivers") if isinstance(data.get("waivers"), list) else []
    for index, item in enumerate(waivers):
        waiver = _mapping(item)
        approver = waiver.get("approver")
        if isinstance(approver, str) and approver.strip().lower() in requesters:
            problems.append(
                Problem(
                    f"waivers.{index}.approver: '{approver}' is an owner or the contact of this request; "
                    "a waiver needs an approver outside the team (expected another person's e-mail, e.g. security@example.com)",
                    ("waivers", index, "approver"),
                )
            )
        try:
            expires = date.fromisoformat(str(waiver.get("expires")))
        except ValueError:
            continue
        if expires > latest:
            problems.append(
                Problem(
                    f"waivers.{index}.expires: {expires.isoformat()} is more than {max_days} days after "
                    f"{today.isoformat()}; end it by {latest.isoformat()} and renew it then "
                    "(waiver_max_days in infra/platform.yaml)",
                    ("waivers", index, "expires"),
                )
            )
    return problems


def kind_problems(data: dict[str, Any], today: date, max_days: int) -> list[Problem]:
    """What the kind of request demands, read from the raw file so these show together
    with every other problem. An exploration: one non-prod environment, an end_date at most
    `max_days` (exploration_max_days in infra/platform.yaml) after the plan date, and an
    explicit budget amount. A project: owner and cost center tags, and no end_date."""
    kind = data.get("kind", "project")
    if kind not in REQUEST_KINDS:
        return []  # the schema's own message names the allowed kinds
    environments = _mapping(data.get("environments"))
    tags = _mapping(data.get("tags"))
    problems: list[Problem] = []
    end = data.get("end_date")
    if kind == "project":
        for key in ("owner", "cost_center"):
            if "tags" in data and tags.get(key) is None:
                problems.append(Problem(f"tags.{key}: is required for a project (only an exploration may leave it out)", ("tags", key)))
        if end is not None:
            problems.append(
                Problem(
                    "end_date: only an exploration ends; remove end_date, or set kind: exploration",
                    ("end_date",),
                )
            )
        return problems
    latest = today + timedelta(days=max_days)
    if end is None:
        problems.append(
            Problem(
                f"end_date: is required for an exploration; add end_date: {latest.isoformat()} or earlier "
                f"(at most {max_days} days away, exploration_max_days in infra/platform.yaml)",
                ("kind",),
            )
        )
    else:
        try:
            ending = end if isinstance(end, date) else date.fromisoformat(str(end))
        except ValueError:
            ending = None  # the schema reports the form
        if ending is not None and ending > latest:
            problems.append(
                Problem(
                    f"end_date: {ending.isoformat()} is more than {max_days} days after {today.isoformat()}; "
                    f"end the exploration by {latest.isoformat()} (extend it later, or promote it to kind: project)",
                    ("end_date",),
                )
            )
    request = _mapping(data.get("request"))
    if tags.get("owner") is None and not (isinstance(request.get("contact_email"), str) and not email_problems(request["contact_email"])):
        problems.append(
            Problem(
                "tags.owner: an exploration needs someone to answer for it; add request.contact_email "
                "(it becomes the owner tag and receives the budget alerts) or tags.owner",
                ("tags",),
            )
        )
    if "prod" in environments:
        problems.append(
            Problem(
                "environments.prod: an exploration never gets prod; remove environments.prod "
                "(promote it to kind: project for prod, docs/self-service.md)",
                ("environments", "prod"),
            )
        )
    non_prod = [environment for environment in environments if environment in EXPLORATION_ENVIRONMENTS]
    if len(non_prod) != 1 and isinstance(data.get("environments"), dict):
        problems.append(
            Problem(
                f"environments: an exploration has exactly one of {' or '.join(EXPLORATION_ENVIRONMENTS)}, "
                f"this file has {len(non_prod)}; keep one (usually dev)",
                ("environments",),
            )
        )
    for environment in non_prod:
        budget = _mapping(_mapping(environments.get(environment)).get("budget"))
        if "amount" not in budget:
            problems.append(
                Problem(
                    f"environments.{environment}.budget.amount: an exploration needs a budget cap; "
                    f"add budget: {{amount: 300}} under environments.{environment} (monthly, in the billing currency)",
                    ("environments", environment),
                )
            )
    return problems


def parse_project(data: Any, source: str = "project file", today: date | None = None) -> ProjectFile:
    """Validate a project file's content and every environment in it, so that a bad prod
    override fails the dev plan too instead of waiting for the prod deployment."""
    try:
        policy = platform_policy()
    except PlatformPolicyError as error:
        raise ProjectFileError(str(POLICY_PATH), error.lines, lines=error.lines) from None
    if not isinstance(data, dict):
        raise ProjectFileError(source, [Problem("(file): expected a YAML mapping with project, location, tags, principals, environments")])
    limits = waiver_limit_problems(data, today or date.today(), policy.waiver_max_days)
    limits += kind_problems(data, today or date.today(), policy.exploration_max_days)
    try:
        project_file = ProjectFile.model_validate(data)
    except ValidationError as error:
        # Report the environments' and waivers' problems too, so one run shows everything to fix.
        raise ProjectFileError(source, _problems(error, ProjectFile) + limits + _raw_environment_problems(data)) from None
    from dsplatform.infra.request import template_answer_problems  # the template's rules; imported late (it imports this module)

    problems = list(limits) + template_answer_problems(project_file)
    for environment in project_file.environments:
        try:
            resolve_environment(project_file, environment, source)
        except ProjectFileError as error:
            problems += [problem for problem in error.problems if problem not in problems]
    if problems:
        raise ProjectFileError(source, problems)
    return project_file


def _one_line(text: str) -> str:
    """Values quoted in a message may hold line breaks or control characters; escape them
    so each problem stays one `file:line:column:` line."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in str(text))


def located_lines(document: Document, problems: list[str]) -> list[str]:
    """`file:line:column: field: message` for each problem, in file order; a problem about
    a key that is not in the file points at the closest key that is."""
    located = sorted((document.position_of(getattr(problem, "location", ())), index, problem) for index, problem in enumerate(problems))
    return [f"{document.path}:{line}:{column}: {_one_line(problem)}" for (line, column), _, problem in located]


def load_located(path: str | Path, today: date | None = None) -> tuple[Document, ProjectFile]:
    """The one way every command reads a project file: the bounded safe loader
    (dsplatform.safe_yaml), then the schema; every problem is a located line."""
    try:
        document = load_document(path)
    except DocumentError as error:
        raise ProjectFileError(str(path), list(error.lines), lines=error.lines) from None
    try:
        return document, parse_project(document.data, str(document.path), today)
    except ProjectFileError as error:
        raise ProjectFileError(error.source, error.problems, lines=located_lines(document, error.problems)) from None


def load_project_file(path: str | Path, today: date | None = None) -> ProjectFile:
    return load_located(path, today)[1]


def load_stack_settings(path: str | Path, environment: str) -> StackSettings:
    """One environment's settings; every problem located like `request validate`'s."""
    document, project_file = load_located(path)
    try:
        return resolve_environment(project_file, environment, str(path))
    except ProjectFileError as error:
        raise ProjectFileError(error.source, error.problems, lines=located_lines(document, error.problems)) from None


def _without_required(schema: Any) -> Any:
    """Overrides are partial: every key of an environment may be left to its default."""
    if isinstance(schema, dict):
        return {key: _without_required(item) for key, item in schema.items() if key != "required"}
    if isinstance(schema, list):
        return [_without_required(item) for item in schema]
    return schema


def request_json_schema() -> dict[str, Any]:
    """The project file's JSON Schema, for editors (yaml-language-server) and CI.

    Generated from the pydantic models, with `environments.<env>` described by the
    per-environment settings (all optional), which the models keep as raw mappings so
    that defaults can be merged first."""
    schema = ProjectFile.model_json_schema()
    overrides = _without_required(EnvironmentSettings.model_json_schema())
    definitions = schema.setdefault("$defs", {})
    override_definitions = overrides.pop("$defs", {})
    renamed = {name: f"{name}Override" for name in override_definitions}

    def renamed_refs(value: Any) -> Any:
        # Inside the partial definitions too (AksSettingsOverride refers to NodePoolOverride),
        # or an editor meets a reference to a definition the schema does not have.
        text = json.dumps(value)
        for name, new_name in renamed.items():
            text = text.replace(f'"#/$defs/{name}"', f'"#/$defs/{new_name}"')
        return json.loads(text)

    for name, definition in renamed_refs(override_definitions).items():
        definitions.setdefault(renamed[name], definition)
    overrides = renamed_refs(overrides)
    overrides["title"] = "EnvironmentOverrides"
    definitions["EnvironmentOverrides"] = overrides
    schema["properties"]["environments"] = {
        "description": schema["properties"]["environments"].get("description", ""),
        "type": "object",
        "properties": {
            environment: {"anyOf": [{"$ref": "#/$defs/EnvironmentOverrides"}, {"type": "null"}]} for environment in ENVIRONMENTS
        },
        "additionalProperties": False,
    }
    # A project needs dev and prod; an exploration needs an end date and never has prod.
    schema["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": "exploration"}}, "required": ["kind"]},
            "then": {"required": ["end_date"], "properties": {"environments": {"not": {"required": ["prod"]}}}},
            "else": {
                "properties": {
                    "environments": {"required": list(REQUIRED_ENVIRONMENTS)},
                    "tags": {"required": ["owner", "cost_center", "data_classification"]},
                }
            },
        }
    ]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dsplatform project request (infra/projects/<project>.yaml)"
    return schema


def split_stack_name(stack: str) -> tuple[str, str]:
    """`churn-model-prod` → (`churn-model`, `prod`): the environment is the last segment
    because slugs may themselves contain hyphens."""
    project, _, environment = stack.rpartition("-")
    if not project or environment not in ENVIRONMENTS:
        raise ProjectFileError(
            f"stack '{stack}'",
            [f"stack name: expected <project>-<env> with env one of {', '.join(ENVIRONMENTS)}, e.g. churn-model-dev"],
        )
    return project, environment


def settings_for_stack(
    stack: str, projects_directory: str | Path, project_file: str | Path | None = None, environment: str | None = None
) -> StackSettings:
    """The settings a stack builds. The stack's own settings (`dsplatform:projectFile`,
    `dsplatform:environment`, written by `dsplatform request stacks`) name the file and
    environment; without them the stack name `<project>-<env>` does."""
    project, stack_environment = split_stack_name(stack)
    if environment is not None and environment != stack_environment:
        raise ProjectFileError(
            f"stack '{stack}'", [f"dsplatform:environment: is '{environment}' but the stack name says '{stack_environment}'"]
        )
    path = Path(projects_directory).parent / project_file if project_file else Path(projects_directory) / f"{project}.yaml"
    settings = load_stack_settings(path, stack_environment)
    if settings.project != project:
        raise ProjectFileError(str(path), [f"project: is '{settings.project}' but the stack is for '{project}'"])
    return settings

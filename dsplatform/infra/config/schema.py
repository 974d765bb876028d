"""The project file's schema: the pydantic models a request is validated against.

Why pydantic and one schema: Azure/mlops-v2 parsed its config booleans as strings (so
"false" was true) and spread settings over three places. Here one typed schema is read by
the Pulumi program, the offline plan, the request CLI and CI. Every field's `description`
is its expected form, which the error lines (config.problems) and the JSON Schema
(config.json_schema) both show.

`ProjectFile` is the file as written; `EnvironmentSettings` is one environment once the
defaults (config.defaults) are merged in; `StackSettings` is what the Pulumi program
builds from (config.load resolves it).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from dsplatform.infra.config.defaults import EXPLORATION_COST_CENTER
from dsplatform.infra.guardrails import RULE_IDS, WaiverTerms
from dsplatform.infra.platform_policy import platform_policy
from dsplatform.naming import (
    NAME_SUFFIX_FORM,
    PROJECT_SLUG_FORM,
    ResourceNames,
    name_suffix_problems,
    project_slug_problems,
    resource_names,
)
from dsplatform.vocabulary import (
    CHOICES,
    DATA_CLASSIFICATIONS,
    ENVIRONMENTS,
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

    @property
    def is_private(self) -> bool:
        """Whether this environment's services are private: public network access off,
        private endpoints in the project's VNet, a private AKS API server. Decided here
        only; program.py passes the answer to each component as `private`, and no
        component infers it from whether it was given a network."""
        return self.settings.private_networking

    def resource_tags(self) -> dict[str, str]:
        return {
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
            "data-classification": self.tags.data_classification,
            "project": self.project,
            "environment": self.environment,
            "managed-by": "pulumi",
        }

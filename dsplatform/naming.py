"""Every Azure-facing name of a project, derived in one place.

Why one module: Azure/mlops-v2 derives names in three places that drifted apart, and
its fixed Key Vault names collided with their soft-deleted twins on re-deploy. Here the
cookiecutter hooks, the Pulumi program and the request CLI all import these rules.

This module is standard-library only so that the template hooks can import it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass

from dsplatform.vocabulary import ENVIRONMENTS

PROJECT_SLUG_MIN_LENGTH = 3
# The binding limit is the ML workspace (33 characters): "mlw-" + slug + "-" + a
# three-letter environment code leaves 25; 24 keeps one character of headroom. The
# 24-character global names (storage account, Key Vault) truncate the slug and add a
# hash suffix instead, so they are not the limit.
PROJECT_SLUG_MAX_LENGTH = 24
PROJECT_SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PROJECT_SLUG_FORM = (
    f"{PROJECT_SLUG_MIN_LENGTH} to {PROJECT_SLUG_MAX_LENGTH} characters of lowercase "
    "letters, digits and single hyphens, starting with a letter and not ending with a "
    "hyphen (for example 'churn-model')"
)


def project_slug_problems(slug: str) -> list[str]:
    """Explain what is wrong with a project slug, or return nothing when it is valid.

    Returns sentences rather than raising so callers (hooks, the request CLI) can report
    every problem at once.
    """
    problems: list[str] = []
    if not isinstance(slug, str) or not slug:
        return [f"is empty; use {PROJECT_SLUG_FORM}"]
    if len(slug) < PROJECT_SLUG_MIN_LENGTH:
        problems.append(f"'{slug}' is {len(slug)} characters; the minimum is {PROJECT_SLUG_MIN_LENGTH}")
    if len(slug) > PROJECT_SLUG_MAX_LENGTH:
        problems.append(
            f"'{slug}' is {len(slug)} characters; the maximum is {PROJECT_SLUG_MAX_LENGTH} so that every Azure resource name stays valid"
        )
    if not PROJECT_SLUG_PATTERN.match(slug):
        problems.append(f"'{slug}' is not of the form: {PROJECT_SLUG_FORM}")
    return problems


def _ascii_words(text: str) -> list[str]:
    try:  # python-slugify's transliteration ships with cookiecutter; prefer it.
        from text_unidecode import unidecode

        text = unidecode(text)
    except ImportError:  # pragma: no cover - fallback drops what NFKD cannot map
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", text.lower())


def slug_from_name(name: str, max_length: int = PROJECT_SLUG_MAX_LENGTH) -> str:
    """Derive a valid slug from any human project name.

    The result is always valid: transliterated to ASCII, prefixed when it would start
    with a digit or be too short, and cut at a word boundary where possible.
    """
    words = _ascii_words(name or "")
    if not words:
        words = ["project"]
    if words[0][0].isdigit():
        words.insert(0, "p")
    slug = "-".join(words)
    if len(slug) > max_length:
        cut = slug[:max_length]
        cut_inside_a_word = slug[max_length] != "-"
        shorter = cut.rsplit("-", 1)[0]
        if cut_inside_a_word and "-" in cut and len(shorter) >= PROJECT_SLUG_MIN_LENGTH:
            cut = shorter
        slug = cut
        slug = slug.rstrip("-")
    while len(slug) < PROJECT_SLUG_MIN_LENGTH:
        slug = f"{slug}-prj"[:max_length].rstrip("-") if "-" not in slug else slug + "x"
    return slug


# --------------------------------------------------------------------------------------
# Azure resource names
# --------------------------------------------------------------------------------------

# The three-letter environment codes keep the 24-character names short.
ENVIRONMENT_CODES = {"dev": "dev", "staging": "stg", "prod": "prd"}

# The suffix of the globally unique, soft-deletable names (storage account, Key Vault,
# container registry). Derived from the slug and environment so that every tool computes
# the same name, and overridable so that a team whose old Key Vault is still
# soft-deleted (purge protection keeps it for 90 days) can pick a fresh one.
NAME_SUFFIX_LENGTH = 5
NAME_SUFFIX_PATTERN = re.compile(r"^[a-z0-9]{1,5}$")
NAME_SUFFIX_FORM = "1 to 5 lowercase letters or digits (for example 'x7k2p')"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class NameRule:
    """Azure's rule for one resource type's name, from "Naming rules and restrictions for
    Azure resources". Kept as data so tests and the request CLI check every name the same
    way the program generates it."""

    resource: str
    abbreviation: str
    min_length: int
    max_length: int
    pattern: str
    form: str
    scope: str

    def problems(self, name: str) -> list[str]:
        found = []
        if not self.min_length <= len(name) <= self.max_length:
            found.append(f"{self.resource} name '{name}' is {len(name)} characters; allowed {self.min_length}-{self.max_length}")
        if not re.fullmatch(self.pattern, name):
            found.append(f"{self.resource} name '{name}' is not {self.form}")
        return found


_ALNUM_HYPHEN_ENDS = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"

NAME_RULES: dict[str, NameRule] = {
    rule_key: NameRule(*fields)
    for rule_key, fields in {
        "resource_group": (
            "resource group",
            "rg",
            1,
            90,
            r"[\w().-]*[\w()-]",
            "alphanumerics, _ ( ) - . not ending in '.'",
            "subscription",
        ),
        "log_analytics_workspace": (
            "Log Analytics workspace",
            "log",
            4,
            63,
            _ALNUM_HYPHEN_ENDS,
            "alphanumerics and '-', starting and ending alphanumeric",
            "resource group",
        ),
        "application_insights": ("Application Insights", "appi", 1, 255, r"[^%&\\?/]+", "free of % & \\ ? /", "resource group"),
        "user_assigned_identity": (
            "user-assigned identity",
            "id",
            3,
            128,
            r"[A-Za-z0-9][A-Za-z0-9_-]*",
            "alphanumerics, '-', '_', starting alphanumeric",
            "resource group",
        ),
        "storage_account": ("storage account", "st", 3, 24, r"[a-z0-9]+", "lowercase letters and digits only", "global"),
        "machine_learning_storage_account": ("storage account", "st", 3, 24, r"[a-z0-9]+", "lowercase letters and digits only", "global"),
        "key_vault": (
            "Key Vault",
            "kv",
            3,
            24,
            r"[A-Za-z](?:[A-Za-z0-9]|-(?!-))*[A-Za-z0-9]",
            "alphanumerics and single '-', starting with a letter, ending alphanumeric",
            "global",
        ),
        "container_registry": ("container registry", "cr", 5, 50, r"[A-Za-z0-9]+", "alphanumerics only", "global"),
        "machine_learning_workspace": (
            "ML workspace",
            "mlw",
            3,
            33,
            r"[A-Za-z0-9][A-Za-z0-9_-]*",
            "alphanumerics, '-', '_', starting alphanumeric",
            "resource group",
        ),
        "machine_learning_compute": (
            "ML compute",
            "",
            2,
            16,
            r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
            "letters, digits and '-', starting with a letter",
            "workspace",
        ),
        "machine_learning_datastore": ("ML datastore", "", 1, 255, r"[a-z0-9_]+", "lowercase letters, digits and '_'", "workspace"),
        "databricks_workspace": ("Databricks workspace", "dbw", 3, 64, r"[A-Za-z0-9_-]+", "alphanumerics, '_', '-'", "resource group"),
        "databricks_managed_resource_group": (
            "resource group",
            "rg",
            1,
            90,
            r"[\w().-]*[\w()-]",
            "alphanumerics, _ ( ) - . not ending in '.'",
            "subscription",
        ),
        "databricks_access_connector": (
            "Databricks access connector",
            "dbac",
            3,
            64,
            r"[A-Za-z0-9_.-]*[A-Za-z0-9_-]",
            "alphanumerics, '_', '-', '.'",
            "resource group",
        ),
        "databricks_catalog": ("Unity Catalog catalog", "", 1, 255, r"[a-z][a-z0-9_]*", "lowercase letters, digits and '_'", "metastore"),
        "aks_control_plane_identity": (
            "user-assigned identity",
            "id",
            3,
            128,
            r"[A-Za-z0-9][A-Za-z0-9_-]*",
            "alphanumerics, '-', '_', starting alphanumeric",
            "resource group",
        ),
        "aks_cluster": (
            "AKS cluster",
            "aks",
            1,
            63,
            r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?",
            "alphanumerics, '_', '-', starting and ending alphanumeric",
            "resource group",
        ),
        "aks_dns_prefix": (
            "AKS DNS prefix",
            "",
            1,
            54,
            _ALNUM_HYPHEN_ENDS,
            "alphanumerics and '-', starting and ending alphanumeric",
            "cluster",
        ),
        "aks_node_resource_group": (
            "resource group",
            "rg",
            1,
            80,
            r"[\w().-]*[\w()-]",
            "alphanumerics, _ ( ) - . not ending in '.'",
            "subscription",
        ),
        "aks_system_pool": (
            "AKS node pool",
            "",
            1,
            12,
            r"[a-z][a-z0-9]*",
            "lowercase letters and digits, starting with a letter",
            "cluster",
        ),
        "aks_user_pool": ("AKS node pool", "", 1, 12, r"[a-z][a-z0-9]*", "lowercase letters and digits, starting with a letter", "cluster"),
        "virtual_network": (
            "virtual network",
            "vnet",
            2,
            64,
            r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]",
            "alphanumerics, '_', '.', '-'",
            "resource group",
        ),
        # "Naming rules and restrictions for Azure resources": NAT gateways and public IPs take
        # 1-80 alphanumerics, '_', '.', '-', starting alphanumeric and ending alphanumeric or '_'.
        "nat_gateway": (
            "NAT gateway",
            "ng",
            1,
            80,
            r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
            "alphanumerics, '_', '.', '-'",
            "resource group",
        ),
        "nat_public_ip": (
            "public IP address",
            "pip",
            1,
            80,
            r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
            "alphanumerics, '_', '.', '-'",
            "resource group",
        ),
        "network_security_group": (
            "network security group",
            "nsg",
            1,
            80,
            r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
            "alphanumerics, '_', '.', '-'",
            "resource group",
        ),
        **{
            f"{kind}_endpoint": (
                f"Azure ML {kind} endpoint",
                "",
                3,
                32,
                r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
                "letters, digits and '-', starting with a letter and ending alphanumeric",
                "region",
            )
            for kind in ("online", "kubernetes", "batch")
        },
        "federated_identity_credential": (
            "federated identity credential",
            "fic",
            3,
            120,
            r"[A-Za-z0-9][A-Za-z0-9_-]*",
            "alphanumerics, '-', '_', starting alphanumeric",
            "identity",
        ),
        # "Naming rules for Azure Data Factory" (https://learn.microsoft.com/azure/data-factory/naming-rules):
        # 3-63 letters, digits and hyphens, starting and ending with a letter or digit, no
        # consecutive hyphens, unique across Azure.
        "data_factory": (
            "Data Factory",
            "adf",
            3,
            63,
            r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-))*[A-Za-z0-9]",
            "letters, digits and single '-', starting and ending with a letter or digit",
            "global",
        ),
        # "Naming rules and restrictions for Azure resources" (Microsoft.CognitiveServices/accounts):
        # 2-64 alphanumerics and hyphens, starting and ending alphanumeric. The account's custom
        # subdomain (<name>.cognitiveservices.azure.com) is unique across Azure, so both carry the
        # deterministic suffix ("Custom subdomain names for Azure AI services",
        # https://learn.microsoft.com/azure/ai-services/cognitive-services-custom-subdomains).
        # Integration runtime names: 3-63 letters, digits and '-', starting and ending with a
        # letter or digit ("Naming rules for Azure Data Factory").
        "data_factory_integration_runtime": (
            "Data Factory integration runtime",
            "ir",
            3,
            63,
            r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-))*[A-Za-z0-9]",
            "letters, digits and single '-', starting and ending with a letter or digit",
            "factory",
        ),
        "ai_services": (
            "Azure AI services account",
            "ais",
            2,
            64,
            _ALNUM_HYPHEN_ENDS,
            "alphanumerics and '-', starting and ending alphanumeric",
            "resource group",
        ),
        "ai_services_subdomain": (
            "Azure AI services custom subdomain",
            "",
            2,
            64,
            r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
            "lowercase alphanumerics and '-', starting and ending alphanumeric",
            "global",
        ),
    }.items()
}

# Sub-resources whose names are fixed within their parent (so never collide).
STORAGE_CONTAINERS = ("raw", "curated", "ml-artifacts")
SUBNET_NAMES = {
    "databricks_host": "snet-dbw-host",
    "databricks_container": "snet-dbw-container",
    "private_endpoints": "snet-pe",
    "aks": "snet-aks",
}
DIAGNOSTIC_SETTING_NAME = "diag-to-log-analytics"
# Where new data lands: the storage-event trigger of the generated project's Data Factory
# pipeline watches this container, and the factory may read only it.
LANDING_CONTAINER = STORAGE_CONTAINERS[0]
# A factory has one managed virtual network and Azure fixes its name ("default": "Managed
# virtual network and managed private endpoints",
# https://learn.microsoft.com/azure/data-factory/managed-virtual-network-private-endpoint).
DATA_FACTORY_MANAGED_VNET = "default"
DATA_FACTORY_INTEGRATION_RUNTIME = "ir-managed-vnet"
# The linked service the generated factory definition uses for the Azure ML workspace.
DATA_FACTORY_ML_LINKED_SERVICE = "ls_azureml_workspace"
# The AKS scoring cluster as Azure ML sees it: the attached Kubernetes compute and the
# namespace (and service account) its online deployments run in. The generated project's
# Azure ML definitions use the same names, so they are defined here and nowhere else.
KUBERNETES_COMPUTE_NAME = "aks-scoring"
SCORING_NAMESPACE = "scoring"
SCORING_SERVICE_ACCOUNT = "scoring"


def _check_environment(environment: str) -> str:
    if environment not in ENVIRONMENT_CODES:
        raise ValueError(f"environment '{environment}' is not one of: {', '.join(ENVIRONMENTS)}")
    return ENVIRONMENT_CODES[environment]


def name_suffix(project: str, environment: str) -> str:
    """A short suffix that is the same on every machine for the same project and
    environment, so re-deploys find their own storage, vault and registry instead of
    colliding with somebody else's (these names are global across Azure)."""
    _check_environment(environment)
    digest = int.from_bytes(hashlib.sha256(f"{project}:{environment}".encode()).digest()[:8], "big")
    characters = []
    for _ in range(NAME_SUFFIX_LENGTH):
        digest, remainder = divmod(digest, 36)
        characters.append(_BASE36[remainder])
    return "".join(characters)


def name_suffix_problems(suffix: str) -> list[str]:
    if not isinstance(suffix, str) or not NAME_SUFFIX_PATTERN.match(suffix):
        return [f"'{suffix}' is not {NAME_SUFFIX_FORM}"]
    return []


def _truncated_then_suffixed(head: str, body: str, tail: str, max_length: int, separator: str) -> str:
    """Fit head + body + tail into max_length by cutting the body, never the suffix.

    The suffix is a hash of the full slug, so two long slugs that share their first
    characters still get different names after the cut.
    """
    budget = max_length - len(head) - len(tail)
    body = body[:budget].rstrip("-")
    if separator:
        body = re.sub(r"-{2,}", "-", body)
    return f"{head}{body}{tail}"


@dataclass(frozen=True)
class ResourceNames:
    """Every Azure name of one project environment. Field names match NAME_RULES keys."""

    resource_group: str
    log_analytics_workspace: str
    application_insights: str
    user_assigned_identity: str
    storage_account: str
    machine_learning_storage_account: str
    key_vault: str
    container_registry: str
    machine_learning_workspace: str
    machine_learning_compute: str
    machine_learning_datastore: str
    databricks_workspace: str
    databricks_managed_resource_group: str
    databricks_access_connector: str
    databricks_catalog: str
    aks_control_plane_identity: str
    aks_cluster: str
    aks_dns_prefix: str
    aks_node_resource_group: str
    aks_system_pool: str
    aks_user_pool: str
    virtual_network: str
    nat_gateway: str
    nat_public_ip: str
    network_security_group: str
    federated_identity_credential: str
    online_endpoint: str
    kubernetes_endpoint: str
    batch_endpoint: str
    data_factory: str
    data_factory_integration_runtime: str
    ai_services: str
    ai_services_subdomain: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def problems(self) -> list[str]:
        return [problem for kind, name in self.as_dict().items() for problem in NAME_RULES[kind].problems(name)]


def resource_names(project: str, environment: str, suffix: str | None = None) -> ResourceNames:
    """Derive every name of a project environment from its slug.

    Raises ValueError for an invalid slug, environment or suffix, so that an invalid name
    never reaches Azure (where it would fail minutes into a deployment).
    """
    problems = project_slug_problems(project)
    if problems:
        raise ValueError(f"project slug {'; '.join(problems)}")
    code = _check_environment(environment)
    if suffix is None:
        suffix = name_suffix(project, environment)
    elif name_suffix_problems(suffix):
        raise ValueError(f"name suffix {name_suffix_problems(suffix)[0]}")
    compact = project.replace("-", "")
    base = f"{project}-{code}"
    return ResourceNames(
        resource_group=f"rg-{base}",
        log_analytics_workspace=f"log-{base}",
        application_insights=f"appi-{base}",
        user_assigned_identity=f"id-{base}",
        # Azure ML cannot use a hierarchical-namespace account as its default storage, so it
        # gets its own account next to the lake. Both carry a two-letter purpose in the same
        # position: a cut slug ending in "ml" could otherwise make the two names equal.
        storage_account=_truncated_then_suffixed("st", compact, f"dl{code}{suffix}", 24, ""),
        machine_learning_storage_account=_truncated_then_suffixed("st", compact, f"ml{code}{suffix}", 24, ""),
        key_vault=_truncated_then_suffixed("kv-", project, f"-{code}-{suffix}", 24, "-"),
        container_registry=_truncated_then_suffixed("cr", compact, f"{code}{suffix}", 50, ""),
        machine_learning_workspace=f"mlw-{base}",
        machine_learning_compute="cpu-cluster",
        machine_learning_datastore="lake_curated",
        databricks_workspace=f"dbw-{base}",
        databricks_managed_resource_group=f"rg-{base}-dbw-managed",
        databricks_access_connector=f"dbac-{base}",
        databricks_catalog=f"{project.replace('-', '_')}_{environment}",
        aks_control_plane_identity=f"id-{base}-aks",
        aks_cluster=f"aks-{base}",
        aks_dns_prefix=f"aks-{base}",
        aks_node_resource_group=f"rg-{base}-aks-nodes",
        aks_system_pool="system",
        aks_user_pool="scoring",
        virtual_network=f"vnet-{base}",
        nat_gateway=f"ng-{base}-dbw",
        nat_public_ip=f"pip-{base}-ng",
        network_security_group=f"nsg-{base}-dbw",
        federated_identity_credential=f"fic-{base}-scoring",
        # Endpoint names are unique per Azure region across subscriptions, so they carry
        # the hash suffix; the generated project's deployment files use these names.
        online_endpoint=_truncated_then_suffixed("", project, f"-{code}{suffix}-ol", 32, "-"),
        kubernetes_endpoint=_truncated_then_suffixed("", project, f"-{code}{suffix}-k8s", 32, "-"),
        batch_endpoint=_truncated_then_suffixed("", project, f"-{code}{suffix}-bt", 32, "-"),
        # Globally unique names carry the suffix; neither is ever cut (a 24-character slug fits).
        data_factory=f"adf-{base}-{suffix}",
        # The generated pipeline definition runs its activities here (.cloud/datafactory/).
        data_factory_integration_runtime=DATA_FACTORY_INTEGRATION_RUNTIME,
        ai_services=f"ais-{base}-{suffix}",
        ai_services_subdomain=f"ais-{base}-{suffix}",
    )


# --------------------------------------------------------------------------------------
# Budgets and personal compute (request kinds, docs/self-service.md)
# --------------------------------------------------------------------------------------

# "Naming rules and restrictions for Azure resources", Microsoft.Consumption budgets:
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
BUDGET_RULE = NameRule("budget", "budget", 1, 63, r"[A-Za-z0-9_-]+", "alphanumerics, '-' and '_'", "resource group")
# "A name for an Azure ML Compute Instance must be between 3 and 24 characters in length and
# must use only numbers, letters and minus symbol (-), must start with letters. Numbers cannot
# be the ending of the name if the previous character is a minus symbol (-)." The name must be
# unique within the Azure region ("Create an Azure Machine Learning compute instance",
# https://learn.microsoft.com/azure/machine-learning/how-to-create-compute-instance).
COMPUTE_INSTANCE_RULE = NameRule(
    "compute instance",
    "ci",
    3,
    24,
    r"[A-Za-z](?:[A-Za-z0-9-]*(?:[A-Za-z]|[A-Za-z0-9][0-9]))?",
    "letters, digits and '-', starting with a letter, not ending in '-' followed by a digit",
    "region",
)
COMPUTE_INSTANCE_HASH_LENGTH = 6


def budget_name(project: str, environment: str) -> str:
    """The environment's consumption budget, one per resource group. It does not depend on
    the request's kind, so promoting an exploration keeps the same budget."""
    return f"budget-{project}-{_check_environment(environment)}"


def compute_instance_name(project: str, environment: str, object_id: str) -> str:
    """A data scientist's compute instance. Compute instance names are unique per Azure
    region across every subscription, so the name carries a hash of the project, the
    environment and the person's object id; it stays the same when the request's kind
    changes, so promotion keeps each person's instance (and its disk)."""
    code = _check_environment(environment)
    digest = int.from_bytes(hashlib.sha256(f"{project}:{environment}:{object_id.lower()}".encode()).digest()[:8], "big")
    characters = []
    for _ in range(COMPUTE_INSTANCE_HASH_LENGTH):
        digest, remainder = divmod(digest, 26)
        characters.append("abcdefghijklmnopqrstuvwxyz"[remainder])
    tail = f"-{code}-{''.join(characters)}"
    return _truncated_then_suffixed("ci-", project, tail, COMPUTE_INSTANCE_RULE.max_length, "-")

"""The platform's vocabulary and value rules, in one place.

Why one module: the environment list lived in four places and the data classifications
in three, and the tag-value check was written twice with copies that disagreed about
line breaks, so a request could pass `request validate` and then fail at `scaffold`.
The request schema (`dsplatform.infra.config.schema`), the template's answer rules
(`dsplatform.template`), the guardrails, naming and the CLIs import from here.

Standard library only: the cookiecutter hooks import it from whatever Python runs
cookiecutter.

Each `*_problems` function returns sentences without the field name (the caller adds
`field: `), empty when the value is valid, so every reader reports the same words.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# --- environments -------------------------------------------------------------------------
ENVIRONMENTS = ("dev", "staging", "prod")
# A project request must define at least these; staging is optional.
REQUIRED_ENVIRONMENTS = ("dev", "prod")

# --- kinds of request ---------------------------------------------------------------------
# A project is today's full request (dev and prod, staging optional). An exploration is a
# short-lived sandbox to judge whether a project is viable: one non-prod environment, an end
# date and a budget cap (docs/self-service.md). Promotion is a change of `kind` in the file.
REQUEST_KINDS = ("project", "exploration")
EXPLORATION_ENVIRONMENTS = tuple(environment for environment in ENVIRONMENTS if environment != "prod")

# --- data classification ------------------------------------------------------------------
DATA_CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
# Classifications that need Azure ML's high-business-impact workspace (encrypted scratch disks,
# less diagnostic data sent to Microsoft):
# https://learn.microsoft.com/azure/machine-learning/concept-data-encryption
SENSITIVE_CLASSIFICATIONS = ("confidential", "restricted")

# --- template choices ---------------------------------------------------------------------
CHOICES: dict[str, tuple[str, ...]] = {
    "cicd": ("azure_devops", "github"),
    "compute": ("databricks", "azureml", "both"),
    "sample": ("batch_scoring", "many_models", "both"),
    "python_version": ("3.11", "3.12"),
    "data_classification": DATA_CLASSIFICATIONS,
}
# What a person sees beside each choice in the template's numbered menus.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "cicd": {"azure_devops": "azure_devops (Azure Pipelines)", "github": "github (GitHub Actions)"},
    "compute": {
        "databricks": "databricks (Databricks job clusters)",
        "azureml": "azureml (Azure ML compute)",
        "both": "both (Databricks and Azure ML)",
    },
    "sample": {
        "batch_scoring": "batch_scoring (predictive maintenance on Spark MLlib)",
        "many_models": "many_models (a forecast per store and brand)",
        "both": "both samples",
    },
}

# --- regions ------------------------------------------------------------------------------
# Regions that host Azure Databricks, Azure ML and AKS together. A typo here would
# otherwise surface only at `pulumi up`, long after the repository was generated.
AZURE_LOCATIONS = frozenset(
    {
        "australiaeast", "brazilsouth", "canadacentral", "canadaeast", "centralindia", "centralus",
        "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral", "italynorth",
        "japaneast", "japanwest", "koreacentral", "mexicocentral", "northcentralus", "northeurope",
        "norwayeast", "polandcentral", "qatarcentral", "southafricanorth", "southcentralus",
        "southeastasia", "spaincentral", "swedencentral", "switzerlandnorth", "uaenorth", "uksouth",
        "ukwest", "westcentralus", "westeurope", "westus", "westus2", "westus3",
    }
)  # fmt: skip
AZURE_LOCATION_FORM = "the lowercase programmatic name, for example westeurope or eastus2"


def location_problems(location: str) -> list[str]:
    if location in AZURE_LOCATIONS:
        return []
    hint = str(location).lower().replace(" ", "").replace("-", "")
    close = [hint] if hint in AZURE_LOCATIONS else difflib.get_close_matches(hint, sorted(AZURE_LOCATIONS), n=1)
    suggestion = f" (did you mean '{close[0]}'?)" if close else ""
    return [f"'{location}' is not a supported Azure region name{suggestion}; use {AZURE_LOCATION_FORM}"]


# --- text ---------------------------------------------------------------------------------
# Cookiecutter renders answers as Jinja; these open template syntax.
TEMPLATE_SYNTAX = ("{{", "{%", "{#")


def control_characters(text: str) -> list[str]:
    """Unicode control, format and separator characters other than the plain space: line
    breaks, tabs, NUL, bidi overrides (U+202E) and zero-width characters. They hide or move
    text in the files and review comments a value lands in."""
    return sorted({f"U+{ord(character):04X}" for character in str(text) if unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"}})


def single_line_problems(text: str, max_length: int) -> list[str]:
    problems = []
    hidden = control_characters(text)
    if hidden:
        problems.append(f"contains control characters ({', '.join(hidden)}); use a single line of plain text")
    if len(str(text)) > max_length:
        problems.append(f"is {len(str(text))} characters; use at most {max_length}")
    return problems


# --- Markdown and HTML (pull-request comments) ---------------------------------------------
# Every ASCII punctuation character except the harmless `,` and `-` (which never open a
# construct in the middle of a line, where values always sit). Entities render as the
# character itself but never as syntax: "Entity and numeric character references"
# (https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references) says they
# "cannot be used in place of literal characters to indicate structure", and GitHub
# splits table cells before it decodes them (https://github.github.com/gfm/#tables-extension-).
MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+.!|~&\"'@$^=:;%/?")


def markdown_text(value: object) -> str:
    """A value as literal text inside Markdown (GitHub, Azure DevOps) and HTML: special
    characters become numeric entities, so `<!-- -->`, `|`, `**`, `[link](...)`, `#`, `@team`
    and autolinks show as typed and can neither add structure nor hide ours; control and
    line-break characters become a visible `\\uXXXX`."""
    parts = []
    for character in str(value):
        if unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"}:
            parts.append(f"&#92;u{ord(character):04X}")
        elif character in MARKDOWN_SPECIAL:
            parts.append(f"&#{ord(character)};")
        else:
            parts.append(character)
    return "".join(parts)


# --- Azure tags ---------------------------------------------------------------------------
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
TAG_FORBIDDEN_CHARACTERS = frozenset("<>%&\\?/")
TAG_VALUE_MAX_LENGTH = 256


def tag_value_problems(value: object, *, required: bool = True) -> list[str]:
    """Why a value cannot be an Azure tag value, or nothing."""
    text = str(value)
    if required and not text.strip():
        return ["is empty; give a value (it becomes an Azure tag)"]
    problems = []
    if len(text) > TAG_VALUE_MAX_LENGTH:
        problems.append(f"is {len(text)} characters; Azure tag values allow at most {TAG_VALUE_MAX_LENGTH}")
    bad = sorted(TAG_FORBIDDEN_CHARACTERS.intersection(text))
    if bad:
        problems.append(f"contains {' '.join(bad)}; Azure tag values may not contain any of < > % & \\ ? /")
    hidden = control_characters(text)
    if hidden:
        problems.append(f"contains control characters ({', '.join(hidden)}); use a single line of plain text")
    return problems


# --- e-mail -------------------------------------------------------------------------------
# The local part starts with a letter or digit: an address starting with '%' or '-' is
# unusual, and '%' would start a YAML directive in the bundle files it lands in.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
EMAIL_FORM = "the form name@example.com"


def email_problems(value: object) -> list[str]:
    text = str(value)
    if EMAIL_PATTERN.match(text) and len(text) <= 254:
        return []
    return [f"'{text}' is not an e-mail address; use {EMAIL_FORM}"]


# --- exit codes (every dsplatform command) ------------------------------------------------
EXIT_OK = 0
# `project update` only: the merge left conflicts for a person to settle.
EXIT_CONFLICTS = 1
# Bad input: a file, an answer or an argument; one line per problem.
EXIT_INVALID = 2
# A mandatory guardrail finding that no waiver covers.
EXIT_POLICY_VIOLATION = 3
# A documented Azure service constraint is broken: Azure would refuse the deployment, or
# accept one that cannot work. No waiver covers it.
EXIT_CONSTRAINT_VIOLATION = 4


# --- paired regions -----------------------------------------------------------------------
# Azure's region pairs ("Azure cross-region replication pairings for all geographies",
# https://learn.microsoft.com/azure/reliability/cross-region-replication-azure). The Azure ML
# control plane runs in a region and its pair, so an AKS allowlist must admit both.
PAIRED_REGIONS: dict[str, str] = {
    "australiaeast": "australiasoutheast", "brazilsouth": "southcentralus", "canadacentral": "canadaeast",
    "canadaeast": "canadacentral", "centralindia": "southindia", "centralus": "eastus2", "eastasia": "southeastasia",
    "eastus": "westus", "eastus2": "centralus", "francecentral": "francesouth", "germanywestcentral": "germanynorth",
    "japaneast": "japanwest", "japanwest": "japaneast", "koreacentral": "koreasouth", "northcentralus": "southcentralus",
    "northeurope": "westeurope", "norwayeast": "norwaywest", "southafricanorth": "southafricawest",
    "southcentralus": "northcentralus", "southeastasia": "eastasia", "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest", "uaenorth": "uaecentral", "uksouth": "ukwest", "ukwest": "uksouth",
    "westcentralus": "westus2", "westeurope": "northeurope", "westus": "eastus", "westus2": "westcentralus",
    "westus3": "eastus",
}  # fmt: skip


# --- next steps (every command that succeeds) ---------------------------------------------
# Each command ends with one line saying what to run next, in one form, so a person (and a
# test) finds it the same way after `cookiecutter`, `dsplatform plan`, `request scaffold` or
# `project update`.
NEXT_STEP_PREFIX = "Next: "


def next_step(command: str, why: str = "") -> str:
    """`Next: <command>`, with `(why)` after it when the command alone does not say."""
    return f"{NEXT_STEP_PREFIX}{command}" + (f"  ({why})" if why else "")

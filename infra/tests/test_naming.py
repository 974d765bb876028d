"""Every generated name is valid for its Azure type and unique within its stack."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsplatform.naming import (
    NAME_RULES,
    PROJECT_SLUG_MAX_LENGTH,
    PROJECT_SLUG_PATTERN,
    name_suffix,
    project_slug_problems,
    resource_names,
    slug_from_name,
)
from dsplatform.vocabulary import ENVIRONMENTS

# Every valid slug: a letter, then lowercase alphanumerics with single hyphens between runs.
valid_slugs = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,4}", fullmatch=True).filter(
    lambda slug: 3 <= len(slug) <= PROJECT_SLUG_MAX_LENGTH
)
suffixes = st.one_of(st.none(), st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(slug=valid_slugs, environment=st.sampled_from(ENVIRONMENTS), suffix=suffixes)
def test_every_name_is_valid_and_unique_within_its_stack(slug, environment, suffix):
    assert project_slug_problems(slug) == []
    names = resource_names(slug, environment, suffix)
    assert names.problems() == []
    # Names of the same Azure resource type (three resource groups, two storage accounts,
    # two node pools) must differ; a DNS prefix may equal its cluster's name.
    by_type: dict[str, list[str]] = {}
    for kind, name in names.as_dict().items():
        by_type.setdefault(NAME_RULES[kind].resource, []).append(name)
    for resource_type, values in by_type.items():
        assert len(set(values)) == len(values), (resource_type, values)


@settings(max_examples=100, deadline=None)
@given(first=valid_slugs, second=valid_slugs, environment=st.sampled_from(ENVIRONMENTS))
def test_global_names_of_different_projects_differ(first, second, environment):
    if first == second:
        return
    a, b = resource_names(first, environment), resource_names(second, environment)
    # Storage accounts, Key Vaults and registries share one namespace across all of Azure.
    assert a.storage_account != b.storage_account
    assert a.key_vault != b.key_vault
    assert a.container_registry != b.container_registry


def test_the_longest_slug_gives_valid_names_for_every_resource():
    slug = "a" * 11 + "-" + "b" * 12
    assert len(slug) == PROJECT_SLUG_MAX_LENGTH and not project_slug_problems(slug)
    for environment in ENVIRONMENTS:
        names = resource_names(slug, environment)
        assert names.problems() == [], names.problems()
        assert len(names.storage_account) == 24
        assert len(names.key_vault) <= 24 and "--" not in names.key_vault
        assert len(names.machine_learning_workspace) <= 33


def test_long_slugs_sharing_a_prefix_still_get_different_global_names():
    first = resource_names("customer-churn-model-one", "prod")
    second = resource_names("customer-churn-model-two", "prod")
    # Truncation leaves the same prefix; the hash suffix keeps them apart.
    assert first.storage_account[:-5] == second.storage_account[:-5]
    assert first.storage_account != second.storage_account
    assert first.key_vault != second.key_vault


def test_suffix_is_deterministic_and_overridable():
    assert name_suffix("churn-model", "dev") == name_suffix("churn-model", "dev")
    assert name_suffix("churn-model", "dev") != name_suffix("churn-model", "prod")
    assert re.fullmatch(r"[a-z0-9]{5}", name_suffix("churn-model", "dev"))
    overridden = resource_names("churn-model", "prod", suffix="r2")
    assert overridden.key_vault == "kv-churn-model-prd-r2"
    assert overridden.storage_account == "stchurnmodeldlprdr2"


def test_names_follow_caf_abbreviations():
    names = resource_names("churn-model", "dev")
    for kind, name in names.as_dict().items():
        abbreviation = NAME_RULES[kind].abbreviation
        if abbreviation:
            assert name.startswith(abbreviation), (kind, name)
    assert names.resource_group == "rg-churn-model-dev"
    assert names.databricks_catalog == "churn_model_dev"


@pytest.mark.parametrize(
    ("slug", "environment", "suffix"),
    [("Churn", "dev", None), ("churn-model", "test", None), ("churn-model", "dev", "TOO-LONG")],
)
def test_invalid_inputs_are_refused_before_they_reach_azure(slug, environment, suffix):
    with pytest.raises(ValueError):
        resource_names(slug, environment, suffix)


def test_rules_reject_names_azure_would_reject():
    assert NAME_RULES["storage_account"].problems("st-has-hyphen")
    assert NAME_RULES["storage_account"].problems("s" * 25)
    assert NAME_RULES["key_vault"].problems("kv--double")
    assert NAME_RULES["key_vault"].problems("1kv-starts-with-digit")
    assert NAME_RULES["machine_learning_workspace"].problems("m" * 34)
    assert not NAME_RULES["key_vault"].problems("kv-ok-dev-abc12")


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_slug_from_any_name_is_valid(name):
    # The hooks' contract: any human name becomes a slug the naming rules accept.
    slug = slug_from_name(name)
    assert PROJECT_SLUG_PATTERN.match(slug) and not project_slug_problems(slug)

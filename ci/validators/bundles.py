"""Databricks Asset Bundles: the CLI's published JSON schema.

A module of its own because the schema needs adapting before Python's `jsonschema` can
use it (its patterns use Unicode classes `re` lacks, its `oneOf` errors hide the cause),
and that adaptation concerns bundle files only.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path

from ci.validators.common import REPO_ROOT, read_yaml, relative

# The Databricks CLI's published bundle schema (databricks/cli bundle/schema/jsonschema.json,
# commit 7bbe2852, 2026-08-21), kept here so validation works offline.
BUNDLE_SCHEMA = REPO_ROOT / "ci" / "schemas" / "databricks-bundle.schema.json"


def _unicode_classes(pattern: str) -> str:
    """The schema's patterns use `\\p{L}` and `\\p{N}`, which Python's `re` lacks; these are equivalents.

    Inside a character class `[\\p{L}\\p{N}]` is "letter or digit", `[^\\W_]` in `re`.
    """
    pattern = pattern.replace(r"[\p{L}\p{N}]", r"[^\W_]")
    return pattern.replace(r"\p{L}", r"[^\W\d_]").replace(r"\p{N}", r"\d")


@functools.cache
def _bundle_validator():
    import jsonschema
    from jsonschema import validators

    schema = json.loads(BUNDLE_SCHEMA.read_text(encoding="utf-8"))

    def pattern(validator, expected, instance, _schema):
        if validator.is_type(instance, "string") and not re.search(_unicode_classes(expected), instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {expected!r}")

    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return validators.extend(base, {"pattern": pattern})(schema)


def _best_errors(errors: Iterable) -> list:
    """`oneOf` errors (a value or a `${var.x}` reference) nest the real cause; report the deepest."""
    from jsonschema.exceptions import best_match

    found = list(errors)
    return [best_match([error]) for error in found]


def validate_bundle(path: Path, root: Path) -> list[str]:
    """A bundle file (databricks.yml or an included resource file) against the bundle schema."""
    document, problem = read_yaml(path, root)
    if problem:
        return [problem]
    problems = []
    for error in sorted(_best_errors(_bundle_validator().iter_errors(document)), key=lambda error: list(error.path)):
        where = ".".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{relative(path, root)}: bundle schema: {where}: {error.message[:300]}")
    return problems

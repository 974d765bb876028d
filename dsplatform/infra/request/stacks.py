"""The Pulumi stack files `dsplatform request stacks` writes: one
`Pulumi.<project>-<env>.yaml` per environment, holding only the keys the program needs to
find its project file.

A module of its own because it is the one part of a request that writes into the Pulumi
project: it owns the `dsplatform:` keys and their digest, refuses files edited by hand or
written by someone else, and decides every file before writing any, so one refusal writes
nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dsplatform.infra.config.load import resolve_environment
from dsplatform.infra.config.schema import ProjectFile, StackSettings
from dsplatform.infra.request import RequestError, environments_of
from dsplatform.safe_yaml import DocumentError, load_document

# Stack settings keys this tool owns; anything else in a stack file is left alone.
CONFIG_NAMESPACE = "dsplatform"
DIGEST_KEY = f"{CONFIG_NAMESPACE}:managedDigest"


def _digest(managed: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(managed, sort_keys=True).encode()).hexdigest()[:16]


def stack_config(settings: StackSettings, project_file_path: str) -> dict[str, Any]:
    """The keys `infra/__main__.py` reads (namespace `dsplatform`) plus the provider's
    default location. Everything else stays in the project file, the one source."""
    return {
        "azure-native:location": settings.location,
        f"{CONFIG_NAMESPACE}:environment": settings.environment,
        f"{CONFIG_NAMESPACE}:projectFile": project_file_path,
    }


@dataclass
class StackFileChange:
    path: Path
    action: str  # created, updated, unchanged
    content: str | None = None


def plan_stack_files(project_file: ProjectFile, request_path: Path, stacks_directory: Path, force: bool = False) -> list[StackFileChange]:
    """Decide every stack file first, so that one refusal writes nothing at all."""
    relative = Path(os.path.relpath(request_path.resolve(), stacks_directory.resolve())).as_posix()
    changes, refusals = [], []
    for environment in environments_of(project_file):
        settings = resolve_environment(project_file, environment, str(request_path))
        path = stacks_directory / f"Pulumi.{settings.stack_name}.yaml"
        managed = stack_config(settings, relative)
        document: dict[str, Any] = {"config": {}}
        if path.exists():
            try:
                loaded = load_document(path).data or {}
            except DocumentError as error:  # the same bounded loader as for requests
                loaded = None
                if not force:
                    refusals.append(f"{error.lines[0]}; fix it, or pass --force to replace it")
                    continue
            if isinstance(loaded, dict):
                document = loaded
                document.setdefault("config", {})
            config = document.get("config") if isinstance(document.get("config"), dict) else {}
            recorded = config.get(DIGEST_KEY)
            current = {key: config.get(key) for key in managed}
            if not force and recorded is None:
                refusals.append(
                    f"{path}: was not written by `dsplatform request stacks` (no {DIGEST_KEY}); move it aside, "
                    "or pass --force to take it over (other keys are kept)"
                )
                continue
            if not force and recorded != _digest(current):
                edited = [key for key in managed if config.get(key) != managed[key]]
                refusals.append(
                    f"{path}: was edited by hand since it was written ({', '.join(edited) or 'managed keys'} changed); "
                    "put the change in the project file instead, or pass --force to overwrite the managed keys"
                )
                continue
            if current == managed and recorded == _digest(managed):
                changes.append(StackFileChange(path, "unchanged"))
                continue
            action = "updated"
        else:
            action = "created"
        config = document["config"] if isinstance(document.get("config"), dict) else {}
        config = {key: item for key, item in config.items() if key not in managed and key != DIGEST_KEY}
        config |= managed | {DIGEST_KEY: _digest(managed)}
        document["config"] = dict(sorted(config.items()))
        header = (
            f"# Written by `dsplatform request stacks {relative}`: stack {settings.stack_name}.\n"
            "# Change the project file, not the keys below; other keys you add are kept.\n"
        )
        changes.append(StackFileChange(path, action, header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)))
    if refusals:
        raise RequestError([f"error: {line}" for line in refusals] + ["Nothing was written."])
    return changes


def write_stack_files(changes: list[StackFileChange]) -> None:
    for change in changes:
        if change.content is None:
            continue
        temporary = change.path.with_name(f".{change.path.name}.tmp")
        temporary.write_text(change.content, encoding="utf-8")
        temporary.replace(change.path)  # atomic: never a half-written stack file

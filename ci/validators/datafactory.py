"""Data Factory definitions: the official azure-mgmt-datafactory models, strictly.

A module of its own because the SDK keeps unknown keys silently and resolves polymorphic
types one level only, so this walks the models itself to report every unknown key,
missing required key and unknown `type`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from ci.validators.common import first_line, relative

# Data Factory's Git layout: the folder names the resource type (one JSON resource per file).
DATAFACTORY_RESOURCES = {"pipeline": "PipelineResource", "trigger": "TriggerResource", "linkedService": "LinkedServiceResource"}


@functools.cache
def _datafactory_models():
    from azure.mgmt.datafactory import models

    return models


def _subclasses(cls: type) -> Iterable[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _concrete(cls: type, data: dict) -> tuple[type, str | None]:
    """The model class a polymorphic object names with its discriminator (`type`).

    azure-mgmt-datafactory 10's own `_deserialize` resolves one level only (Activity ->
    ExecutionActivity, never -> WebActivity), so every subclass's mapping is searched."""
    discriminator = cls._get_discriminator([]) if hasattr(cls, "__mapping__") else None
    if discriminator is None:
        return cls, None
    wanted = data.get(discriminator._rest_name)
    for candidate in (cls, *_subclasses(cls)):
        mapping = candidate.__dict__.get("__mapping__") or {}
        if wanted in mapping:
            return mapping[wanted], None
    known = sorted({key for candidate in (cls, *_subclasses(cls)) for key in (candidate.__dict__.get("__mapping__") or {})})
    return cls, f"{discriminator._rest_name} {wanted!r} is not a known {cls.__name__} type (known: {', '.join(known[:12])}, ...)"


def _field_types(cls: type) -> dict[str, tuple[str, object, bool]]:
    """rest name -> (attribute, annotation, required) for one model class."""
    import typing

    from azure.mgmt.datafactory._utils.model_base import _UNSET

    models = _datafactory_models()
    hints: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if "__annotations__" in klass.__dict__ and klass.__module__.startswith("azure.mgmt.datafactory"):
            # Enum annotations read "_models.X" though the enums live in the package, not _models.
            namespace = {**vars(sys.modules[klass.__module__]), "_models": models, "_enums": models}
            hints.update(typing.get_type_hints(klass, globalns=namespace, localns=namespace))
    fields = {}
    for attribute, field in cls._attr_to_rest_field.items():
        annotation = hints.get(attribute, object)
        optional = type(None) in typing.get_args(annotation)
        read_only = list(field._visibility or []) == ["read"]
        has_default = field._default is not _UNSET and field._default is not None
        fields[field._rest_name] = (attribute, annotation, not optional and not read_only and not has_default)
    return fields


def _model_in(annotation: object) -> tuple[str, type] | None:
    """("one" | "list" | "map", model class) when the annotation holds SDK models."""
    import typing

    from azure.mgmt.datafactory._utils.model_base import Model

    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return "one", annotation
    if origin is typing.Union:
        for argument in arguments:
            found = _model_in(argument)
            if found:
                return found
    if origin in (list, typing.List) and arguments:  # noqa: UP006
        found = _model_in(arguments[0])
        return ("list", found[1]) if found and found[0] == "one" else None
    if origin in (dict, typing.Dict) and len(arguments) == 2:  # noqa: UP006
        found = _model_in(arguments[1])
        return ("map", found[1]) if found and found[0] == "one" else None
    return None


def datafactory_problems(data: object, cls: type, where: str) -> list[str]:
    """Every key the SDK model does not know, every required key missing and every unknown
    `type`, walking nested models; the SDK alone would keep unknown keys silently."""
    if not isinstance(data, dict):
        return [f"{where}: expected an object for {cls.__name__}, got {type(data).__name__}"]
    cls, unknown_type = _concrete(cls, data)
    if unknown_type:
        return [f"{where}: {unknown_type}"]
    try:
        cls._deserialize(data, [])  # computes the class's fields, and raises on what it cannot read
    except Exception as error:  # the SDK's own deserializer refusing a value
        return [f"{where}: {cls.__name__} cannot be read ({type(error).__name__}: {first_line(str(error) or repr(error.__cause__))})"]
    fields = _field_types(cls)
    problems = [f"{where}.{key}: not a {cls.__name__} property" for key in data if key not in fields]
    problems += [f"{where}.{key}: required by {cls.__name__}" for key, (_, _, required) in fields.items() if required and key not in data]
    for key, (_, annotation, _) in fields.items():
        if key not in data or data[key] is None:
            continue
        nested = _model_in(annotation)
        if nested is None:
            continue
        shape, model = nested
        value = data[key]
        if shape == "one":
            problems += datafactory_problems(value, model, f"{where}.{key}")
        elif shape == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                problems += datafactory_problems(item, model, f"{where}.{key}[{index}]")
        elif shape == "map" and isinstance(value, dict):
            for name, item in value.items():
                problems += datafactory_problems(item, model, f"{where}.{key}.{name}")
        else:
            problems.append(f"{where}.{key}: expected a {'list' if shape == 'list' else 'mapping'} of {model.__name__}")
    return problems


def validate_datafactory(path: Path, root: Path) -> list[str]:
    """A Data Factory definition (pipeline/, trigger/ or linkedService/) against the
    official azure-mgmt-datafactory models, offline."""
    name = relative(path, root)
    folder = path.parent.name
    if folder not in DATAFACTORY_RESOURCES:
        return [f"{name}: a Data Factory definition belongs in one of {', '.join(DATAFACTORY_RESOURCES)}/"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return [f"{name}:{error.lineno}: not JSON: {error.msg}"]
    model = getattr(_datafactory_models(), DATAFACTORY_RESOURCES[folder])
    return [f"{name}: {problem}" for problem in datafactory_problems(data, model, "$")]

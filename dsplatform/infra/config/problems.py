"""How a project file's problems are told: one `field.path: what is wrong (expected form)`
line each, located at `file:line:column:` when the file was read, never a traceback.

Pydantic's errors are rewritten here: the expected form comes from the field's
`description` (config.schema), a misspelt key gets a "did you mean", a number YAML read
where text was meant gets the quoted form to write instead.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import BaseModel, ValidationError

from dsplatform.safe_yaml import Document


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


def only_keys_in_the_file(problems: list[Problem], overrides: dict[str, Any] | None) -> list[Problem]:
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


def validation_problems(error: ValidationError, model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[str]:
    """Every error of one pydantic validation as a problem line, its path under `prefix`
    (`("environments", "prod")` when an environment's merged settings were validated)."""
    return [_describe(item, model, prefix) for item in error.errors(include_url=False)]


def one_line(text: str) -> str:
    """Values quoted in a message may hold line breaks or control characters; escape them
    so each problem stays one `file:line:column:` line."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in str(text))


def located_lines(document: Document, problems: list[str]) -> list[str]:
    """`file:line:column: field: message` for each problem, in file order; a problem about
    a key that is not in the file points at the closest key that is."""
    located = sorted((document.position_of(getattr(problem, "location", ())), index, problem) for index, problem in enumerate(problems))
    return [f"{document.path}:{line}:{column}: {one_line(problem)}" for (line, column), _, problem in located]

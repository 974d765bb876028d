"""The one reader of request and project files: bounded, safe YAML with positions.

Why one reader with limits: a request file arrives in a pull request from anyone who can
open one, and CI reads it before a person has looked. Plain `yaml.safe_load` runs no
code, but a 478-byte alias bomb ("billion laughs") expands to gigabytes, a list nested a
few hundred deep ends in a `RecursionError`, and a 20 MB file keeps the pure-Python
parser busy for minutes. Every command that reads such a file (`request validate`,
`plan`, `stacks`, `scaffold`, `dsplatform plan` and the policy pack's waivers) goes
through `load_document`, which refuses before doing expensive work:

- more than MAX_BYTES (256 KiB; the example request is 2 KiB), checked with `stat` before
  anything is read, and again while reading (a file may grow);
- a directory, a device or a FIFO (reading those blocks or never ends);
- bytes that are not UTF-8 text, and NUL bytes (binary data);
- anchors and aliases (`&name`, `*name`): the schema never needs them, and refusing them
  outright removes alias expansion as a cost, rather than bounding it;
- nesting deeper than MAX_DEPTH levels (the schema needs five);
- any explicit tag other than the YAML core schema's own (`!!str`, `!!int`, ...), so
  `!!python/object/apply:...` is refused with a message before any constructor is chosen;
- duplicate keys, which YAML would silently resolve to the last one.

The checks run on the parser's event stream (libyaml's C parser when PyYAML has it,
https://pyyaml.org/wiki/PyYAMLDocumentation "CLoader"), which is flat: no recursion, no
expansion. Only a document that passed them is composed and constructed.

Every refusal is one `file:line:column: field: message` line naming the expected form.
Standard library and PyYAML only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 256 * 1024
MAX_DEPTH = 20
# The YAML 1.1 core tags SafeLoader resolves anyway; writing one explicitly is harmless.
CORE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map"))
TEXT_FORM = "UTF-8 YAML text"

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProjectFileLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML (libyaml's C parser where available), but dates stay text until the
    schema reads them: PyYAML would raise a bare ValueError on a date such as 2026-13-01
    instead of letting the field report it."""


ProjectFileLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

Position = tuple[int, int]  # 1-based line and column


def field_path(location: Sequence[Any]) -> str:
    """`environments.prod.aks` from a location tuple; `(file)` for the whole document."""
    return ".".join(str(part) for part in location) or "(file)"


class DocumentError(Exception):
    """A file that cannot be read as a request; `lines` are `file:line:column: field: message`."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


def _refusal(path: Path | str, position: Position, location: Sequence[Any], message: str) -> DocumentError:
    line, column = position
    return DocumentError([f"{path}:{line}:{column}: {field_path(location)}: {message}"])


@dataclass
class Document:
    path: Path
    data: Any
    positions: dict[tuple[Any, ...], Position]

    def position_of(self, location: Sequence[Any]) -> Position:
        """The closest node that exists in the file: a missing key points at its parent."""
        location = tuple(location)
        while location and location not in self.positions:
            location = location[:-1]
        return self.positions.get(location, (1, 1))


# ----------------------------------------------------------------------------- bytes


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's text, or a one-line refusal; never reads more than max_bytes + 1 bytes."""
    path = Path(path)
    try:
        status = os.stat(path)
    except OSError as error:
        raise _refusal(path, (1, 1), (), f"cannot be read ({error.strerror}); give the path of a {TEXT_FORM} file") from None
    if stat.S_ISDIR(status.st_mode):
        raise _refusal(path, (1, 1), (), f"is a directory; give the path of a {TEXT_FORM} file, e.g. infra/projects/<project>.yaml")
    if not stat.S_ISREG(status.st_mode):
        raise _refusal(path, (1, 1), (), f"is not a regular file; give the path of a {TEXT_FORM} file")
    too_big = f"is larger than {max_bytes // 1024} KiB; a request is a short {TEXT_FORM} file (the example is about 2 KiB)"
    if status.st_size > max_bytes:
        raise _refusal(path, (1, 1), (), too_big)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as error:
        raise _refusal(path, (1, 1), (), f"cannot be read ({error.strerror})") from None
    if len(raw) > max_bytes:
        raise _refusal(path, (1, 1), (), too_big)
    return decode(raw, path)


def _position_of_offset(raw: bytes, offset: int) -> Position:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1


def decode(raw: bytes, path: Path | str = "<text>") -> str:
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        raise _refusal(path, _position_of_offset(raw, offset), (), f"holds binary data (a NUL byte); give {TEXT_FORM}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start : error.start + 1].hex()
        raise _refusal(
            path, _position_of_offset(raw, error.start), (), f"is not UTF-8 (byte 0x{byte}); save the file as {TEXT_FORM}"
        ) from None
    return text.removeprefix("\ufeff")


# ----------------------------------------------------------------------------- events


def _mark(event: yaml.Event) -> Position:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _check_events(text: str, path: Path | str) -> None:
    """Refuse anchors, aliases, foreign tags and deep nesting from the flat event stream,
    keeping track of the field each event belongs to for the message."""
    # Each open collection: [kind, location, next key or index, expecting a key].
    stack: list[list[Any]] = []
    loader = ProjectFileLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                _advance(stack)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            is_key = bool(stack) and stack[-1][0] == "map" and stack[-1][3]
            if stack:
                parent = stack[-1]
                location = parent[1] if is_key else (*parent[1], parent[2])
            else:
                location = ()
            if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
                raise _refusal(
                    path,
                    _mark(event),
                    location,
                    "uses a YAML anchor or alias (&name, *name); write each value out (a request needs no anchors)",
                )
            tag = getattr(event, "tag", None)
            if tag not in (None, "!") and tag not in CORE_TAGS:
                shown = str(tag).replace("tag:yaml.org,2002:", "!!", 1)
                raise _refusal(path, _mark(event), location, f"has the YAML tag {shown!r}; remove it and write a plain value")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if is_key:
                    raise _refusal(path, _mark(event), location, "uses a list or mapping as a key; keys are plain names")
                if len(stack) + 1 > MAX_DEPTH:
                    raise _refusal(
                        path,
                        _mark(event),
                        location,
                        f"nests deeper than {MAX_DEPTH} levels; a request needs at most 5 (see infra/projects/example.yaml)",
                    )
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append([kind, location, 0 if kind == "seq" else None, kind == "map"])
                continue
            # A scalar: a key names the next value; a value moves the parent on.
            if is_key:
                stack[-1][2] = event.value
                stack[-1][3] = False
            else:
                _advance(stack)
    finally:
        loader.dispose()


def _advance(stack: list[list[Any]]) -> None:
    """A value ended: a list moves to its next index, a mapping expects its next key."""
    if not stack:
        return
    if stack[-1][0] == "seq":
        stack[-1][2] += 1
    else:
        stack[-1][3] = True


# ----------------------------------------------------------------------------- document


def _positions(node: yaml.Node, path: tuple[Any, ...], positions: dict, duplicates: list[tuple[tuple, Position]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                duplicates.append(((*path, key), where))
            seen.add(key)
            positions[(*path, key)] = where
            _positions(value_node, (*path, key), positions, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _positions(item, (*path, index), positions, duplicates)


def parse_document(text: str, path: Path | str = "<text>") -> Document:
    """YAML text to data with each key's line and column, or DocumentError."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _refusal(path, (1, 1), (), f"is larger than {MAX_BYTES // 1024} KiB; a request is a short {TEXT_FORM} file")
    try:
        _check_events(text, path)
        loader = ProjectFileLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        position = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise _refusal(path, position, (), f"is not valid YAML ({reason}); fix the syntax at this position") from None
    except (ValueError, OverflowError) as error:  # e.g. an integer longer than Python converts (sys.int_info)
        raise _refusal(path, (1, 1), (), f"holds a value that cannot be read ({str(error)[:80]}); shorten it") from None
    positions: dict[tuple[Any, ...], Position] = {(): (1, 1)}
    duplicates: list[tuple[tuple, Position]] = []
    if node is not None:
        _positions(node, (), positions, duplicates)
    if duplicates:
        raise DocumentError(
            [
                f"{path}:{line}:{column}: {field_path(location)}: appears twice; keep one (YAML would silently use the last)"
                for location, (line, column) in duplicates
            ]
        )
    return Document(Path(path), data, positions)


def load_document(path: str | Path, max_bytes: int = MAX_BYTES) -> Document:
    """Read a request or project file with every limit above, or raise DocumentError."""
    return parse_document(read_text(path, max_bytes), path)

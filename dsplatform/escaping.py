"""Write a person's text into a generated file so that it stays text in that file's format.

Why: the template puts free-text answers (the project's name, its description, the owner)
into Python docstrings, TOML, Markdown and more. Put there raw, a `\"\"\"` ends the
docstring and whatever follows runs on the first import; a `"` makes `pyproject.toml`
unreadable; `<!--` hides the rest of a README. Each function here returns the text
escaped for one format, so that a reader of that format gets back exactly the value
that was given. The template applies them as Jinja filters (`hooks/template_filters.py`);
values that must keep a strict shape (e-mail addresses, slugs, folder names, tag values)
are refused at validation instead (`dsplatform.template.answer_problems`).

Standard library only: the cookiecutter hooks and extension import it.
"""

from __future__ import annotations

import json
import re
import shlex

# Python string literals: https://docs.python.org/3/reference/lexical_analysis.html#escape-sequences
_PYTHON_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'"}


def py_str(value: object) -> str:
    """The inside of a Python string literal in double or single quotes, triple-quoted or
    not (a docstring): backslashes and quotes are escaped, and any character that is not
    printable becomes a `\\u`/`\\U`/`\\x` escape, so no value can end the literal or start a line."""
    out = []
    for character in str(value):
        if character in _PYTHON_ESCAPES:
            out.append(_PYTHON_ESCAPES[character])
        elif character.isprintable():
            out.append(character)
        else:
            out.append(repr(character)[1:-1])
    return "".join(out)


def toml_str(value: object) -> str:
    """The inside of a TOML basic string ("..."): backslash, quote and control characters
    escaped as the TOML 1.0 spec lists them (https://toml.io/en/v1.0.0#string)."""
    out = []
    for character in str(value):
        if character in '\\"':
            out.append("\\" + character)
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            out.append(f"\\u{ord(character):04X}")
        else:
            out.append(character)
    return "".join(out)


def json_str(value: object) -> str:
    """The inside of a JSON string ("..."), for JSON files and notebooks (.ipynb)."""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def yaml_str(value: object) -> str:
    """A complete YAML double-quoted scalar (https://yaml.org/spec/1.2.2/#731-double-quoted-style):
    JSON's escapes for quotes, backslashes and control characters, plus `\\u`/`\\U` escapes for
    every other character that is not printable (U+0085, U+2028 and U+2029 would be read as
    line breaks, and YAML 1.1 readers refuse other non-printable characters)."""
    out = []
    for character in json.dumps(str(value), ensure_ascii=False)[1:-1]:
        code = ord(character)
        out.append(character if character.isprintable() or character == " " else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def shell_quote(value: object) -> str:
    """One shell word (POSIX sh, bash, make recipes): single-quoted unless it is plainly safe."""
    return shlex.quote(str(value))


# CommonMark lets any ASCII punctuation be escaped with a backslash
# (https://spec.commonmark.org/0.31.2/#backslash-escapes). Escape the characters that open
# inline syntax anywhere in a line: emphasis, code, links and images, raw HTML and HTML
# comments, entities, GFM strikethrough, autolinks and table cells, heading closers.
_MARKDOWN_INLINE = frozenset("\\`*_[]<>&!~|#")
# ...and those that open a block only at the start of a line: lists, quotes, headings,
# setext underlines and thematic breaks. An ordered-list marker is digits then '.' or ')'.
_MARKDOWN_LINE_START = re.compile(r"^([-+=>]|\d{1,9}(?=[.)]))")
# Leading and trailing white space as character references: leading spaces would otherwise
# make an indented code block, and readers strip white space at both ends of a block
# (https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references).


def _reference(character: str) -> str:
    return f"&#{ord(character)};"


def md_text(value: object) -> str:
    """Markdown inline text that renders as the value itself: no markup, links, HTML or
    comments can come out of it, and white space at either end survives. The value must be
    a single line (the answer rules refuse line breaks): a line break starts a new block."""
    text = "".join("\\" + character if character in _MARKDOWN_INLINE else character for character in str(value))
    if text[:1].isspace():
        text = _reference(text[0]) + text[1:]
    else:
        match = _MARKDOWN_LINE_START.match(text)
        if match:
            position = match.end() if match.group(1).isdigit() else 0
            text = text[:position] + "\\" + text[position:]
    if text[-1:].isspace():
        text = text[:-1] + _reference(text[-1])
    return text


def md_unescape(text: str) -> str:
    """What a CommonMark reader makes of `md_text`'s output: its inverse."""
    return re.sub(r"\\([!-/:-@\[-`{-~])|&#(\d+);", lambda match: match.group(1) or chr(int(match.group(2))), text)


# Every filter the template may use on a free-text answer, by name.
FILTERS = {
    "py_str": py_str,
    "toml_str": toml_str,
    "json_str": json_str,
    "yaml_str": yaml_str,
    "shell_quote": shell_quote,
    "md_text": md_text,
}

"""Each escape filter, read back by a real reader of its format, gives the value exactly.

The readers: Python's own parser, tomllib, json, PyYAML, a POSIX shell, and markdown-it
(CommonMark, the reader behind rich) for Markdown.
"""

from __future__ import annotations

import ast
import html
import json
import subprocess
import tomllib

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dsplatform.escaping import json_str, md_text, md_unescape, py_str, shell_quote, toml_str, yaml_str

HOSTILE = [
    '"""',
    "'''",
    '\\"',
    "\\",
    "x\\",
    "\\N{BULLET}",
    "\\u0041",
    "{{ 7*7 }}",
    "<!-- hidden -->",
    "<script>alert(1)</script>",
    "[a](javascript:alert(1))",
    "**bold** _it_ `code`",
    "# heading #",
    "- item",
    "1. item",
    "2026) year",
    "> quote",
    "---",
    "===",
    "    indented",
    " lead and trail ",
    "&amp; &#32;",
    "a | b",
    "~~gone~~",
    "key: value # comment",
    "- [x]",
    "*",
    "!",
    "@user",
    "%YAML",
    "'single' \"double\"",
    "$(touch x) `touch y` ; rm -rf ~",
    "Ünïcödé ✓ 日本語",
    "line\nbreak",
    "nul\x00tab\tcr\r",
    "\u2028\u0085\u202e",
]
# What the answer rules let through to Markdown: single lines without control characters.
SINGLE_LINE = st.text(st.characters(exclude_categories=("Cc", "Cf", "Zl", "Zp", "Cs")), min_size=1, max_size=40)
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def python_reads(value: str) -> None:
    for quote in ('"', "'", '"""', "'''"):
        source = f"{quote}{py_str(value)}{quote}"
        assert ast.literal_eval(source) == value, source
    # As a docstring with text after it, the way the package's __init__ uses it.
    module = ast.parse(f'"""{py_str(value)}: more\n\ntext\n"""\n\nX = 1\n')
    assert ast.get_docstring(module, clean=False).startswith(f"{value}: more")
    assert [type(node).__name__ for node in module.body] == ["Expr", "Assign"]


@pytest.mark.parametrize("value", HOSTILE)
def test_python(value):
    python_reads(value)


@given(ANY_TEXT)
def test_python_any_text(value):
    python_reads(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_toml(value):
    assert tomllib.loads(f'x = "{toml_str(value)}"\ny = 1\n') == {"x": value, "y": 1}


@given(ANY_TEXT)
def test_toml_any_text(value):
    assert tomllib.loads(f'x = "{toml_str(value)}"')["x"] == value


@pytest.mark.parametrize("value", HOSTILE)
def test_json(value):
    assert json.loads(f'{{"x": "{json_str(value)}", "y": 1}}') == {"x": value, "y": 1}


@given(ANY_TEXT)
def test_json_and_yaml_any_text(value):
    assert json.loads(f'"{json_str(value)}"') == value
    assert yaml.safe_load(f"x: {yaml_str(value)}\ny: 1\n") == {"x": value, "y": 1}


@pytest.mark.parametrize("value", HOSTILE)
def test_yaml(value):
    assert yaml.safe_load(f"- {yaml_str(value)}\n- after\n") == [value, "after"]


@pytest.mark.parametrize("value", [value for value in HOSTILE if "\x00" not in value])
def test_shell(value, tmp_path):
    said = subprocess.run(["sh", "-c", f"printf '%s' {shell_quote(value)}"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert said.stdout == value
    assert list(tmp_path.iterdir()) == [], "nothing ran"


MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def markdown_reads(value: str) -> None:
    escaped = md_text(value)
    assert md_unescape(escaped) == value
    for block, tag in ((escaped, "p"), (f"# {escaped}", "h1"), (f"Owner: {escaped} (x@example.com).", "p")):
        rendered = MARKDOWN.render(block + "\n")
        assert rendered.startswith(f"<{tag}>") and rendered.endswith(f"</{tag}>\n"), (value, rendered)
        inner = rendered[len(tag) + 2 : -len(tag) - 4]
        assert "<" not in inner, (value, rendered)  # no element, comment or link came out of the value
        expected = f"Owner: {value} (x@example.com)." if block.startswith("Owner") else value
        assert html.unescape(inner) == expected, (value, rendered)


@pytest.mark.parametrize("value", [value for value in HOSTILE if value.isprintable()])
def test_markdown(value):
    markdown_reads(value)


@settings(max_examples=300)
@given(SINGLE_LINE)
def test_markdown_any_single_line(value):
    markdown_reads(value)

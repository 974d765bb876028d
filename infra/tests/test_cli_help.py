"""Every dsplatform command says what it does and shows an example that parses, and a
successful plan ends with one `Next:` line."""

from __future__ import annotations

import argparse
import shlex

import pytest

from dsplatform.cli import _parser, main
from dsplatform.vocabulary import NEXT_STEP_PREFIX

from .conftest import EXAMPLE, INFRA

REPO_ROOT = INFRA.parent


def every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from every_parser(subparser, (*path, name))


PARSERS = list(every_parser(_parser()))


def examples(parser: argparse.ArgumentParser) -> list[str]:
    return [line.strip() for line in (parser.epilog or "").splitlines() if line.startswith("  dsplatform ")]


def test_the_tree_is_complete():
    names = {" ".join(path) for path, _ in PARSERS}
    assert {"", "plan", "request", "request validate", "request plan", "request scaffold", "project update"} <= names


@pytest.mark.parametrize(("path", "parser"), PARSERS, ids=[" ".join(path) or "dsplatform" for path, _ in PARSERS])
def test_every_command_has_a_description_and_an_example_that_parses(path, parser):
    assert parser.description and len(parser.description) > 30, path
    assert examples(parser), f"dsplatform {' '.join(path)} --help shows no example"
    help_text = parser.format_help()
    assert "examples:" in help_text and max(len(line) for line in help_text.splitlines()) <= 100
    for example in examples(parser):
        argv = shlex.split(example.split(" > ")[0])[1:]
        assert argv[: len(path)] == list(path), example
        parsed = _parser().parse_args(argv)  # exits (fails the test) on a wrong option
        for value in vars(parsed).values():
            # Files the examples name are the repository's own.
            if isinstance(value, str) and value.endswith(".yaml"):
                assert (REPO_ROOT / value).is_file(), example


def test_a_successful_plan_ends_with_one_next_step(capsys):
    assert main(["plan", str(EXAMPLE), "--env", "dev"]) == 0
    captured = capsys.readouterr()
    steps = [line for line in captured.err.splitlines() if line.startswith(NEXT_STEP_PREFIX)]
    assert len(steps) == 1 and "--diagram example-dev.svg" in steps[0]
    assert NEXT_STEP_PREFIX not in captured.out  # standard output is the plan alone

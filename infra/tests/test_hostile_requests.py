"""Hostile request files fail fast (issue 11, finding 4): every command that reads a
request or project file goes through one bounded loader (dsplatform.safe_yaml).

Each file below, given to each command through the real CLI entry point, must exit 2
within 2 s with one `file:line:column: field: message` line, no traceback, and (for the
code-execution tag) no marker file written by the payload.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from dsplatform import cli
from dsplatform.infra.policy_pack import waivers_for
from dsplatform.safe_yaml import MAX_BYTES, DocumentError, load_document

from .conftest import EXAMPLE

LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): (?P<message>\S.*)$")


def billion_laughs() -> str:
    """The classic alias bomb: nine levels of nine aliases, 9**8 (43 million) strings when expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    return "# billion laughs" + "!" * (478 - len(text) - len("# billion laughs\n")) + "\n" + text


def hostile_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, a word the one refusal line must contain)."""
    files: dict[str, tuple[Path, str]] = {}

    def write(name: str, content: bytes | str, expect: str) -> None:
        path = folder / f"{name}.yaml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        files[name] = (path, expect)

    bomb = billion_laughs()
    assert len(bomb.encode()) == 478
    write("alias-bomb", bomb, "anchor or alias")
    write("deep", "project: " + "[" * 500 + "]" * 500 + "\n", "nests deeper")
    with open(folder / "huge.yaml", "wb") as stream:  # 20 MB of valid-looking YAML
        stream.write(b"project: example\n" + b"key: value\n" * 2_000_000)
    files["huge"] = (folder / "huge.yaml", "larger than 256 KiB")
    write("binary", bytes(range(256)) * 16, "binary data")
    write("latin-1", EXAMPLE.read_text().replace("Example", "Café Münster").encode("latin-1"), "not UTF-8")
    marker = folder / "MARKER"
    write("python-tag", f'project: !!python/object/apply:os.system ["touch {marker}"]\n', "!!python/object/apply:os.system")
    directory = folder / "directory.yaml"
    directory.mkdir()
    files["directory"] = (directory, "is a directory")
    return files


COMMANDS = {
    "request validate": lambda path, out: ["request", "validate", path],
    "request plan": lambda path, out: ["request", "plan", path, "--output", out / "plan"],
    "request stacks": lambda path, out: ["request", "stacks", path, "--stacks-dir", out / "stacks"],
    "request scaffold": lambda path, out: ["request", "scaffold", path, "--output", out / "scaffold"],
    "plan": lambda path, out: ["plan", path, "--env", "dev"],
}


def run_cli(arguments) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main([str(argument) for argument in arguments])
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - started


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, hostile_files(folder)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", ["alias-bomb", "deep", "huge", "binary", "latin-1", "python-tag", "directory"])
def test_hostile_file_exits_2_fast_with_one_located_line(hostile, tmp_path, command, name):
    folder, files = hostile
    path, expect = files[name]
    code, out, err, seconds = run_cli(COMMANDS[command](path, tmp_path))
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert seconds < 2, f"{command} took {seconds:.2f} s on {name}"
    assert len(lines) == 1, lines
    match = LOCATED.match(lines[0])
    assert match and match["file"] == str(path), lines
    assert expect in match["message"], lines
    assert "Traceback" not in out + err
    assert not (folder / "MARKER").exists()
    assert not (tmp_path / "plan").exists() and not (tmp_path / "scaffold").exists()


def test_refusals_name_the_field_and_position(hostile):
    _, files = hostile
    found = {}
    for name, (path, _) in files.items():
        with pytest.raises(DocumentError) as error:
            load_document(path)
        match = LOCATED.match(error.value.lines[0])
        found[name] = (match["line"], match["column"], match["field"])
    assert found["alias-bomb"] == ("2", "4", "a")  # the first anchor, on the line after the comment
    assert found["deep"][2].startswith("project.0.0.0")
    assert found["python-tag"] == ("1", "10", "project")
    assert found["latin-1"][0] != "1"  # the line of the first é, not the top of the file


def test_one_subprocess_run_shows_no_traceback(hostile):
    """The installed entry point itself, so nothing between it and main() can print a traceback."""
    folder, files = hostile
    entry = Path(sys.executable).parent / "dsplatform"
    for name in ("alias-bomb", "python-tag", "huge"):
        path, expect = files[name]
        started = time.perf_counter()
        result = subprocess.run([entry, "request", "validate", path], capture_output=True, text=True, timeout=30, cwd=folder, check=False)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and expect in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        # The process starts Python and imports pydantic (~1 s here); the refusal itself is milliseconds.
        assert time.perf_counter() - started < 5
    assert not (folder / "MARKER").exists()


def test_policy_pack_reads_waivers_through_the_same_loader(hostile, tmp_path):
    """A hostile project file waives nothing in `pulumi preview` either, and fast."""
    _, files = hostile
    for name in ("alias-bomb", "deep", "python-tag"):
        (tmp_path / f"{name}.yaml").write_bytes(files[name][0].read_bytes())
        started = time.perf_counter()
        assert waivers_for(name, tmp_path) == ()
        assert time.perf_counter() - started < 2


def test_duplicate_keys_are_refused_by_every_command(tmp_path):
    request = tmp_path / "request.yaml"
    request.write_text(EXAMPLE.read_text().replace("location: westeurope\n", "location: westeurope\nlocation: eastus\n"))
    for command in ("validate", "plan"):
        arguments = ["request", command, request] if command == "validate" else ["plan", request, "--env", "dev"]
        code, _, err, _ = run_cli(arguments)
        assert code == 2 and re.search(r"request\.yaml:\d+:1: location: appears twice", err), err


def test_limits_leave_real_requests_alone(tmp_path):
    """Core tags and a file just under the cap still load: the limits refuse attacks, not requests."""
    text = EXAMPLE.read_text().replace('python_version: "3.11"', "python_version: !!str 3.11")
    padding = MAX_BYTES - len(text.encode()) - 1
    request = tmp_path / "request.yaml"
    request.write_text(text + "#" * padding + "\n")
    assert request.stat().st_size == MAX_BYTES
    code, _, err, _ = run_cli(["request", "validate", request])
    assert code == 0, err
    request.write_text(text + "#" * (padding + 1) + "\n")
    code, _, err, _ = run_cli(["request", "validate", request])
    assert code == 2 and "larger than 256 KiB" in err


def test_an_integer_too_long_for_python_is_a_clean_refusal(tmp_path):
    request = tmp_path / "request.yaml"
    request.write_text(EXAMPLE.read_text().replace("log_retention_days", "x") + "extra: " + "9" * 5000 + "\n")
    code, _, err, _ = run_cli(["request", "validate", request])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "request.yaml"
    os.mkfifo(fifo)
    code, _, err, seconds = run_cli(["request", "validate", fifo])
    assert code == 2 and "not a regular file" in err and seconds < 2


# ----------------------------------------------------------------------------- generated hostile text, through the CLI

FREE_TEXT_FIELDS = [
    ("request", "display_name"), ("request", "description"), ("request", "contact_email"), ("tags", "owner"),
    ("tags", "cost_center"), ("principals", "data_science_group", "display_name"), ("waivers", 0, "reason"),
    ("waivers", 0, "approver"), ("waivers", 0, "resource"), ("project",), ("location",),
]  # fmt: skip


def payloads(marker: Path) -> list[str]:
    """Template, shell, Python, YAML, Markdown and HTML syntax; each code-running one would
    create the marker if anything evaluated it."""
    return [
        f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}",
        f"{{% set x = cycler.__init__.__globals__.os.popen('touch {marker}').read() %}}",
        f'X""";__import__("os").system("touch {marker}");"""', f"$(touch {marker})", f"`touch {marker}`",
        f"!!python/object/apply:os.system ['touch {marker}']", "<!-- -->", "**Guardrails passed**", "| a | b |",
        "\n", "\r", "\t", "\x00", "\u202e", "\u200b", "\\", '"', "'", "#", "&", "*", "[x](y)", "é€",
    ]  # fmt: skip


def test_generated_hostile_text_in_every_request_field_ends_cleanly(tmp_path):
    """Hypothesis inside: each generated request is written as YAML and run through
    `request validate`: exit 0, or exit 2 with located one-line problems; never a
    traceback, and no payload ever creates the marker."""
    import yaml
    from hypothesis import HealthCheck, event, given, settings
    from hypothesis import strategies as st

    marker = tmp_path / "MARKER"
    text = st.lists(st.one_of(st.sampled_from(payloads(marker)), st.text(max_size=5)), min_size=1, max_size=5).map("".join)
    base = yaml.safe_load(EXAMPLE.read_text())
    base["waivers"] = [
        {"rule": "acr-admin-user-disabled", "reason": "a vendor tool needs it", "approver": "security@example.com", "expires": "2026-12-31"}
    ]

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(values=st.dictionaries(st.sampled_from(FREE_TEXT_FIELDS), text, min_size=1))
    def check(values):
        data = yaml.safe_load(yaml.safe_dump(base))
        for path, value in values.items():
            target = data
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        request = tmp_path / "request.yaml"
        request.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        code, out, err, _ = run_cli(["request", "validate", request])
        assert code in (0, 2) and "Traceback" not in out + err
        if code == 2:
            lines = err.strip().splitlines()
            assert lines and all(re.match(r"^.+?:\d+:\d+: \S+: \S", line) for line in lines), lines
        event("valid" if code == 0 else "refused")
        assert not marker.exists()

    check()

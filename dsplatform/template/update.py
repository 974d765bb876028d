"""Bring a generated repository up to a newer template version by a three-way merge.

Why not copy files: a project edits the files the template gave it. Rendering the
template twice with the project's recorded answers (at the commit it was generated from,
and at the new ref) tells exactly what the template changed; `git merge-file` then applies
that change on top of the project's own version of each file, so local edits stay and
lines both sides changed become standard conflict markers instead of being overwritten.

Why not cruft as the engine: the record is cruft's (`.cruft.json`, so `cruft check` and
`cruft diff` work on our projects), but `cruft update` applies the change with
`git apply -3`, which needs the old rendered blobs in the project's object store and
otherwise falls back to `.rej` files or an interactive prompt. A per-file merge needs
neither and reports every conflict by name.

Standard library only (plus `git` and a `cookiecutter` next to this Python), like
`dsplatform.template`, so the post-generation hook can import it.
"""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsplatform.vocabulary import EXIT_CONFLICTS
from dsplatform.vocabulary import EXIT_INVALID as EXIT_INVALID_INPUT

RECORD_FILE = ".cruft.json"
# The template this dsplatform belongs to: the repository around dsplatform/.
PLATFORM_TEMPLATE = Path(__file__).resolve().parents[2]
# An answer's name: it becomes a `name=value` argument of cookiecutter's command line, so
# it may never look like an option (`--replay-file=...`).
ANSWER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
# Never merged: git's own state, and the record, which the update rewrites itself.
SKIPPED_PARTS = {".git"}


class UpdateError(RuntimeError):
    """A precondition failed; the message names it and the fix. Nothing was changed."""


def _git(*arguments: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise UpdateError(f"git {' '.join(arguments)} failed in {cwd}: {result.stderr.strip()}")
    return result


def template_commit(template_dir: Path) -> str | None:
    """The template repository's HEAD commit, or None when it is not a git checkout."""
    if shutil.which("git") is None:
        return None
    result = _git("rev-parse", "HEAD", cwd=template_dir, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def public_answers(answers: Mapping[str, object]) -> dict[str, object]:
    """The answers a person gave: cookiecutter's private and derived keys start with '_'."""
    return {key: value for key, value in answers.items() if not key.startswith("_")}


def record_template_source(project_dir: Path, answers: Mapping[str, object], template_dir: Path) -> dict[str, object]:
    """Write `.cruft.json`: where the template came from, its commit and the answers.

    A remote template is recorded by its URL (cookiecutter cloned it); a local one by the
    absolute path. cookiecutter's `_repo_dir` is that path when it was given as one; a
    relative one (`cookiecutter .` gives ".") cannot be resolved here, because the hook runs
    inside the new project and would record the project as its own template, so the
    hook's own `template_dir` stands in.
    """
    given = str(answers.get("_template", ""))
    repo_dir = Path(str(answers.get("_repo_dir") or ""))
    repo_dir = repo_dir if repo_dir.is_absolute() else template_dir.resolve()
    remote = "://" in given or given.startswith("git@")
    commit = template_commit(repo_dir)
    record = {
        "template": given if remote else str(repo_dir),
        "commit": commit,
        "checkout": answers.get("_checkout"),
        "context": {"cookiecutter": {**public_answers(answers), "_template": given if remote else str(repo_dir), "_commit": commit}},
        "directory": None,
    }
    (project_dir / RECORD_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def read_record(project_dir: Path) -> dict:
    path = project_dir / RECORD_FILE
    if not path.exists():
        raise UpdateError(
            f"{path} does not exist: this repository does not record its template. "
            "Projects generated before template recording need one written by hand (cruft's format: template, commit, context)."
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UpdateError(f"{path}: not valid JSON ({error}); restore it from git") from None
    missing = [key for key in ("template", "commit", "context") if not record.get(key)]
    if missing:
        raise UpdateError(f"{path}: missing {', '.join(missing)}; the template commit must be recorded to know what changed")
    return record


def platform_template_sources() -> set[str]:
    """Where the platform's own template lives: its folder and the URLs its checkout was cloned from."""
    sources = {str(PLATFORM_TEMPLATE)}
    if shutil.which("git") is not None:
        remotes = _git("config", "--get-regexp", r"^remote\..*\.url$", cwd=PLATFORM_TEMPLATE, check=False).stdout
        sources |= {line.split(maxsplit=1)[1] for line in remotes.splitlines() if " " in line}
    return sources


def _is_platform_template(source: str) -> bool:
    if "://" not in source and not source.startswith("git@") and Path(source).expanduser().resolve() == PLATFORM_TEMPLATE:
        return True
    return source in platform_template_sources()


def check_record(project_dir: Path, record: Mapping[str, object], *, template: str | None) -> None:
    """Refuse a record that would make the update run someone else's code.

    Anyone who can commit to the repository can edit `.cruft.json`, and the update renders
    the template with its answers and runs the recorded template's hooks. So the answers
    meet the same rules as at generation (before anything renders), the recorded template
    must be the platform's own unless the person running the update names one with
    --template, and the recorded commit must be a commit id.
    """
    from dsplatform.template import answer_problems

    path = project_dir / RECORD_FILE
    context = record.get("context")
    answers = context.get("cookiecutter") if isinstance(context, Mapping) else None
    if not isinstance(answers, Mapping):
        raise UpdateError(f"{path}: context.cookiecutter is not a set of answers; restore it from git")
    problems = [
        f"'{name}' is not an answer name (lowercase letters, digits and _)"
        for name in answers
        if not ANSWER_NAME.match(str(name).lstrip("_"))
    ]
    problems += answer_problems(public_answers(answers))
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise UpdateError(f"{path}: the recorded answers are refused, nothing was rendered; correct them in {RECORD_FILE}:\n{lines}")
    if not COMMIT.match(str(record["commit"])):
        raise UpdateError(f"{path}: commit '{record['commit']}' is not a commit id; restore {RECORD_FILE} from git")
    source = str(record["template"])
    if template is None and not _is_platform_template(source):
        raise UpdateError(
            f"{path}: the recorded template '{source}' is not the platform's template ({PLATFORM_TEMPLATE}), and its hooks "
            f"would run on this machine; if you trust it, pass --template {source}"
        )


@dataclass
class UpdateResult:
    from_commit: str
    to_commit: str
    updated: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Files the template changed but the project deleted, or vice versa: left as they are.
    kept_local: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.from_commit == self.to_commit

    def report(self) -> str:
        if self.up_to_date:
            return f"already at template commit {self.to_commit[:12]}: nothing to update"
        lines = [f"template {self.from_commit[:12]} -> {self.to_commit[:12]}"]
        for title, paths in (
            ("merged", self.updated),
            ("added", self.added),
            ("deleted", self.deleted),
            ("kept local (changed on one side, deleted on the other)", self.kept_local),
            ("CONFLICTS (resolve the <<<<<<< markers, then commit)", self.conflicts),
        ):
            if paths:
                lines.append(f"{title}:")
                lines += [f"  {path}" for path in paths]
        return "\n".join(lines)


def _template_checkout(source: str, workdir: Path) -> Path:
    """A git repository holding the template: the recorded folder itself, or a fresh clone of a URL."""
    local = Path(source).expanduser()
    if local.is_dir():
        if _git("rev-parse", "--git-dir", cwd=local, check=False).returncode != 0:
            raise UpdateError(f"template {local} is not a git repository; updates need the template's history")
        return local
    clone = workdir / "template-clone"
    result = subprocess.run(["git", "clone", "--quiet", source, str(clone)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UpdateError(f"cannot clone template {source}: {result.stderr.strip()}; pass --template with a local checkout")
    return clone


def _resolve(template: Path, ref: str) -> str:
    result = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=template, check=False)
    if result.returncode != 0:
        raise UpdateError(f"template ref '{ref}' does not exist in {template}; give a branch, tag or commit")
    return result.stdout.strip()


def _render(template: Path, commit: str, answers: Mapping[str, object], destination: Path) -> Path:
    """Render the template as it was at `commit` with the recorded answers, hooks (and pruning) included.

    Each render runs in its own cookiecutter process: the template's Jinja extension and
    its `dsplatform` rules are imported from that commit's files, and one process would
    keep the first version's modules for the second.
    """
    source = destination / "template"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=template, capture_output=True, check=False)
    if archive.returncode != 0:
        raise UpdateError(f"cannot read template commit {commit[:12]}: {archive.stderr.decode().strip()}")
    archive_path = destination / "template.tar"
    archive_path.write_bytes(archive.stdout)
    with tarfile.open(archive_path) as tar:
        tar.extractall(source, filter="data")
    output = destination / "output"
    # '--' ends the options: no answer can become one (check_record also refuses such names).
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output), "--", str(source)]
    command += [f"{key}={value}" for key, value in public_answers(answers).items()]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UpdateError(f"rendering template commit {commit[:12]} with the recorded answers failed:\n{result.stderr.strip()}")
    (project,) = [path for path in output.iterdir() if path.is_dir()]
    return project


def _files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if (path.is_file() or path.is_symlink()) and not SKIPPED_PARTS.intersection(path.relative_to(root).parts)
    } - {RECORD_FILE}


def _same(first: Path, second: Path) -> bool:
    return first.exists() and second.exists() and filecmp.cmp(first, second, shallow=False)


def merge_trees(base: Path, theirs: Path, ours: Path) -> UpdateResult:
    """Apply the change base -> theirs (old -> new template) to `ours` (the project), file by file."""
    result = UpdateResult("", "")
    for relative in sorted(_files(base) | _files(theirs)):
        base_file, their_file, our_file = base / relative, theirs / relative, ours / relative
        if base_file.exists() and _same(base_file, their_file):
            continue  # the template did not touch it
        if not their_file.exists():  # the template deleted it
            if not our_file.exists():
                continue
            if _same(base_file, our_file):
                our_file.unlink()
                result.deleted.append(relative)
            else:
                result.kept_local.append(relative)
            continue
        if not our_file.exists():
            if base_file.exists():  # the project deleted a file the template changed
                result.kept_local.append(relative)
            else:
                our_file.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(their_file, our_file)
                result.added.append(relative)
            continue
        if _same(our_file, their_file):
            continue  # already has the template's version
        with tempfile.TemporaryDirectory() as scratch:
            base_text = base_file if base_file.exists() else Path(scratch) / "empty"
            base_text.touch()
            merged = subprocess.run(
                [
                    "git",
                    "merge-file",
                    "-L",
                    "project",
                    "-L",
                    "template (old)",
                    "-L",
                    "template (new)",
                    str(our_file),
                    str(base_text),
                    str(their_file),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        if merged.returncode < 0 or merged.returncode > 127:
            raise UpdateError(f"git merge-file failed on {relative}: {merged.stderr.strip()}")
        (result.conflicts if merged.returncode > 0 else result.updated).append(relative)
    return result


def _require_clean(project_dir: Path) -> None:
    if _git("rev-parse", "--is-inside-work-tree", cwd=project_dir, check=False).returncode != 0:
        raise UpdateError(f"{project_dir} is not a git repository; updates merge into committed work only")
    status = _git("status", "--porcelain", cwd=project_dir).stdout.strip()
    if status:
        changed = ", ".join(line[3:] for line in status.splitlines()[:5])
        raise UpdateError(
            f"{project_dir} has uncommitted changes ({changed}); commit or stash them first, "
            "so the update's changes can be reviewed and undone on their own"
        )


def update_project(project_dir: Path, *, template_ref: str = "HEAD", template: str | None = None, check_only: bool = False) -> UpdateResult:
    """Merge the template's changes since the recorded commit into the project's working tree.

    Leaves the result uncommitted for review. `.cruft.json` records the new commit even
    when there are conflicts: after resolving them the project is at the new version, and
    a second update must not replay the same change.
    """
    project_dir = project_dir.resolve()
    record = read_record(project_dir)
    check_record(project_dir, record, template=template)
    if not check_only:
        _require_clean(project_dir)
    with tempfile.TemporaryDirectory(prefix="dsplatform-update-") as scratch:
        workdir = Path(scratch)
        checkout = _template_checkout(template or record["template"], workdir)
        from_commit = _resolve(checkout, record["commit"])
        to_commit = _resolve(checkout, template_ref)
        if check_only or from_commit == to_commit:
            return UpdateResult(from_commit, to_commit)
        answers = record["context"]["cookiecutter"]
        old = _render(checkout, from_commit, answers, workdir / "old")
        new = _render(checkout, to_commit, answers, workdir / "new")
        result = merge_trees(old, new, project_dir)
    result.from_commit, result.to_commit = from_commit, to_commit
    record["commit"] = to_commit
    record["context"]["cookiecutter"]["_commit"] = to_commit
    if template:
        record["template"] = record["context"]["cookiecutter"]["_template"] = template
    (project_dir / RECORD_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


def main(project: str, *, template_ref: str, template: str | None, check: bool) -> int:
    """`dsplatform project update`: 0 updated or up to date, 1 conflicts (or, with --check, an update is available), 2 refused."""
    from dsplatform.vocabulary import next_step

    try:
        result = update_project(Path(project), template_ref=template_ref, template=template, check_only=check)
    except UpdateError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    if check:
        if result.up_to_date:
            print(f"up to date with template {template_ref} ({result.to_commit[:12]})")
            return 0
        print(f"template update available: {result.from_commit[:12]} -> {result.to_commit[:12]} ({template_ref})")
        print(next_step(f"dsplatform project update {project} --template-ref {template_ref}"))
        return EXIT_CONFLICTS
    print(result.report())
    if result.conflicts:
        print(next_step(f"git -C {project} diff", "resolve the <<<<<<< markers in the files above, then commit"))
    elif not result.up_to_date:
        print(next_step(f"git -C {project} diff", "review the merged template changes, then commit"))
    return EXIT_CONFLICTS if result.conflicts else 0

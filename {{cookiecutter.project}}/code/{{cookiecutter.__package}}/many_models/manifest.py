"""The Kubernetes manifest with the serving image pinned: the deploy step's one substitution.

The manifest in `.cloud/kubernetes/` names no image, only a placeholder, so nobody can apply a
mutable `:latest` by accident: `kubectl apply` of the file as it is fails to pull. The deploy
step runs

    python -m {{ cookiecutter.__package }}.many_models manifest --image <registry>/<repository>@sha256:<digest> | kubectl apply -f -

and this module refuses any reference that a registry could later point at other bytes
(no tag or digest, `:latest`, a branch-like tag). A digest is what the registry returns for
the pushed image (`az acr repository show --image <repository>:<tag> --query digest`); an
explicit version tag (`1.4.2`, `v1.4.2`, a commit SHA) is accepted for registries that make
tags immutable. Why a digest: https://kubernetes.io/docs/concepts/containers/images/#image-names
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.settings import SettingsError, find_project_root

PLACEHOLDER = "FORECAST_IMAGE_SET_AT_DEPLOY"
MANIFEST = Path(".cloud") / "kubernetes" / "many-models-serving.yml"
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>{_NAME}(?::[0-9]+)?(?:/{_NAME})+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# An explicit version: 1.4.2, v1.4.2, 2026.11.26-rc1, or a commit SHA; never a moving name.
_VERSION_TAG = re.compile(r"^(?:v?[0-9][A-Za-z0-9_.+-]*|[0-9a-f]{7,40})$")


def image_problem(image: str) -> str | None:
    """Why an image reference may not be deployed, or None when it is pinned."""
    match = _REFERENCE.match(image)
    if not match:
        return f"image: '{image}' is not an image reference; give <registry>/<repository>@sha256:<64 hex digits>"
    tag, digest = match.group("tag"), match.group("digest")
    if digest:
        return None
    if tag is None:
        return f"image: '{image}' has no digest or version; append @sha256:<digest> (az acr repository show --query digest)"
    if not _VERSION_TAG.match(tag):
        return f"image: tag '{tag}' can move to other bytes; pin a digest (@sha256:<digest>) or an explicit version such as 1.4.2"
    return None


def pinned_manifest(image: str, manifest: Path | None = None) -> str:
    """The manifest's text with the placeholder replaced by a pinned image; SettingsError otherwise."""
    problem = image_problem(image)
    if problem:
        raise SettingsError(problem)
    path = manifest or find_project_root() / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"manifest: cannot read {path} ({error.strerror}); pass --manifest with the serving manifest") from None
    occurrences = text.count(f"image: {PLACEHOLDER}")
    if occurrences != 1:
        raise SettingsError(f"manifest: {path} must name the image as 'image: {PLACEHOLDER}' exactly once (found {occurrences})")
    return text.replace(f"image: {PLACEHOLDER}", f"image: {image}")

"""Kubernetes manifests: named objects, pinned images and resource limits.

A module of its own because no official schema is reachable offline, so these checks are
this project's own reading of what `kubectl apply` and a cluster policy would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ci.validators.common import first_line, relative

# The generated serving manifest names no image: `many_models manifest --image` replaces this
# placeholder with a digest-pinned reference at deploy time (code/<package>/many_models/manifest.py).
KUBERNETES_IMAGE_PLACEHOLDER = "FORECAST_IMAGE_SET_AT_DEPLOY"
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def validate_kubernetes(path: Path, root: Path) -> list[str]:
    """Every document of a manifest is a named Kubernetes object, and every workload pins
    its image (by digest, or through the deploy step's placeholder) and limits its resources.

    No official schema is reachable offline (kubeconform fetches them from GitHub), so this
    checks what `kubectl apply` would reject first and what a cluster policy would.
    """
    where = relative(path, root)
    try:
        documents = [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document is not None]
    except yaml.YAMLError as error:
        return [f"{where}: not valid YAML: {first_line(error)}"]
    problems = []
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict) or not all(document.get(key) for key in ("apiVersion", "kind", "metadata")):
            problems.append(f"{where}: document {number} is not a Kubernetes object (apiVersion, kind and metadata are required)")
            continue
        if not (document["metadata"] or {}).get("name"):
            problems.append(f"{where}: {document['kind']} (document {number}) has no metadata.name")
        template = (document.get("spec") or {}).get("template")
        for container in ((template or {}).get("spec") or {}).get("containers", []) if template else []:
            name = f"{document['kind']}/{document['metadata'].get('name')} container {container.get('name')}"
            image = str(container.get("image") or "")
            if not image:
                problems.append(f"{where}: {name} has no image")
            elif image != KUBERNETES_IMAGE_PLACEHOLDER and not IMAGE_DIGEST.search(image):
                problems.append(
                    f"{where}: {name} image '{image}' is not pinned; name it {KUBERNETES_IMAGE_PLACEHOLDER} (the deploy step pins a digest) or @sha256:<digest>"
                )
            if not (container.get("resources") or {}).get("limits"):
                problems.append(f"{where}: {name} sets no resources.limits")
    if not documents:
        problems.append(f"{where}: no Kubernetes objects")
    return problems

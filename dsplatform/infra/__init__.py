"""The Pulumi tier: typed config, components, the program, guardrails, constraints and plans.

Needs the `infra` extra (`pip install -e ".[infra]"`, which `make -C infra setup` does in
infra/.venv): Pulumi's OpenTelemetry pins clash with mlflow's and azure-ai-ml's, so this tier
never shares a virtualenv with the template tooling or a generated project.
"""

from pathlib import Path

# The Pulumi project this tier serves: Pulumi.yaml, projects/, policy/ and the stack files.
PULUMI_PROJECT_DIRECTORY = Path(__file__).resolve().parents[2] / "infra"

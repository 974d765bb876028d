"""Platform tooling for data-science projects on Azure, in three tiers by what they need.

- `dsplatform.vocabulary`, `dsplatform.naming`, `dsplatform.escaping` and `dsplatform.template`:
  the standard library only (`safe_yaml` adds PyYAML, which cookiecutter brings), so the
  cookiecutter hooks can import them from whatever Python runs cookiecutter.
- `dsplatform.cli` and `dsplatform.infra.config` (a package), `request` and `stack`: pydantic as well.
- The rest of `dsplatform.infra` (components, program, plan, mocks): the Pulumi SDKs, from the
  `infra` extra, in infra/.venv only.

Heavy modules are imported where they are used, so a lower tier never pulls a higher one in.
"""

__version__ = "0.1.0"

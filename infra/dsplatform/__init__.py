"""Platform tooling for data-science projects on Azure.

Kept import-light on purpose: the cookiecutter hooks import `dsplatform.naming` and
`dsplatform.template` from whatever Python runs cookiecutter, which has neither
pydantic nor the Pulumi SDK. Heavy modules are imported where they are used.
"""

__version__ = "0.1.0"

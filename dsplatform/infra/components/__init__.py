"""One Pulumi ComponentResource per concern; `dsplatform.infra.program` wires them together."""

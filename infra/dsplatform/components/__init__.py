"""One Pulumi ComponentResource per concern; `dsplatform.program` wires them together."""

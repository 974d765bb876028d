"""Pulumi policy pack entry point: one policy per guardrail rule (dsplatform.infra.guardrails)
and one mandatory policy per Azure constraint (dsplatform.infra.constraints).

`pulumi preview --policy-pack infra/policy` starts this file; PolicyPack serves the
policies to the engine over gRPC until the engine stops it.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from dsplatform.infra.policy_pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.MANDATORY)

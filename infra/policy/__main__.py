"""Pulumi policy pack entry point: one policy per guardrail rule (dsplatform.guardrails)
and one mandatory policy per Azure constraint (dsplatform.constraints).

`pulumi preview --policy-pack infra/policy` starts this file; PolicyPack serves the
policies to the engine over gRPC until the engine stops it.
"""

import sys
from pathlib import Path

# The pack shares infra/'s environment, but import dsplatform from this checkout either way.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from dsplatform.policy_pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.MANDATORY)

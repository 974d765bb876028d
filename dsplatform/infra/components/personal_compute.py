"""Personal compute and read-only data products: what a data scientist works with in dev.

Why compute instances per person, assigned to them: a compute instance assigned to one
user runs notebooks as that user (their Entra ID identity reaches the data), and nobody
else can use it. Idle shutdown keeps a forgotten instance from billing all night, SSH stays
off, and where the workspace has a managed network the instance gets no public IP. Prod
gets none: nobody works by hand in prod (the guardrail ml-compute-instance-not-in-prod).

Why data products are read-only: an exploration (or a project) reads another team's data
product; writing to it stays with that product's own pipelines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import assign_role, child
from dsplatform.naming import compute_instance_name

machine_learning = azure_native.machinelearningservices


@dataclass(frozen=True)
class Person:
    object_id: str
    display_name: str


@dataclass(frozen=True)
class PersonalComputeArgs:
    """Only what the instances need, so tests can build them without a whole environment."""

    project: str
    environment: str
    people: tuple[Person, ...]
    workspace_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    tenant_id: pulumi.Input[str]
    vm_size: str
    idle_minutes: int
    private_networking: bool
    tags: dict[str, str]


def idle_time(minutes: int) -> str:
    """ISO 8601 duration, the form Azure ML's idleTimeBeforeShutdown takes."""
    return f"PT{minutes}M"


class PersonalCompute(pulumi.ComponentResource):
    instances: dict[str, machine_learning.Compute]  # by object id

    def __init__(self, name: str, args: PersonalComputeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:PersonalCompute", name, None, opts)
        self.instances = {}
        for person in args.people:
            compute_name = compute_instance_name(args.project, args.environment, person.object_id)
            self.instances[person.object_id] = machine_learning.Compute(
                f"{name}-{compute_name}",
                compute_name=compute_name,
                workspace_name=args.workspace_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                properties=machine_learning.ComputeInstanceArgs(
                    compute_type="ComputeInstance",
                    description=f"personal compute of {person.display_name}",
                    disable_local_auth=True,
                    properties=machine_learning.ComputeInstancePropertiesArgs(
                        vm_size=args.vm_size,
                        idle_time_before_shutdown=idle_time(args.idle_minutes),
                        # No public IP needs the workspace's managed network (private environments).
                        enable_node_public_ip=not args.private_networking,
                        ssh_settings=machine_learning.ComputeInstanceSshSettingsArgs(ssh_public_access="Disabled"),
                        application_sharing_policy="Personal",
                        compute_instance_authorization_type="personal",
                        personal_compute_instance_settings=machine_learning.PersonalComputeInstanceSettingsArgs(
                            assigned_user=machine_learning.AssignedUserArgs(object_id=person.object_id, tenant_id=args.tenant_id)
                        ),
                    ),
                ),
                tags=args.tags,
                opts=child(self),
            )
        self.register_outputs({})


@dataclass(frozen=True)
class DataProductGrant:
    name: str
    storage_scope: str


@dataclass(frozen=True)
class DataProductAccessArgs:
    stack: str  # role assignment names derive from it
    products: Sequence[DataProductGrant]
    readers: Sequence[tuple[str, pulumi.Input[str], str]]  # (label, principal id, principal type)
    subscription_id: pulumi.Input[str]


class DataProductAccess(pulumi.ComponentResource):
    """Storage Blob Data Reader on each named data product, for the data-science group and
    the ML workspace's identity: read, never write."""

    READ_ROLE = "Storage Blob Data Reader"

    def __init__(self, name: str, args: DataProductAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:DataProductAccess", name, None, opts)
        self.assignments = [
            assign_role(
                f"{name}-{product.name}-{label}",
                args.stack,
                self.READ_ROLE,
                product.storage_scope,
                f"data_product_{product.name}",
                principal_id,
                label,
                principal_type,
                args.subscription_id,
                self,
                [],
            )
            for product in args.products
            for label, principal_id, principal_type in args.readers
        ]
        self.register_outputs({})

"""The environment's consumption budget: a monthly cap on its resource group that alerts
the owners as spending crosses each threshold.

Why a budget per environment and not per subscription: the resource group is the unit a
request owns, so each environment's spending is visible and capped on its own. An
exploration always has one (its budget cap); projects get the environment defaults
(dsplatform.infra.config.defaults ENVIRONMENT_DEFAULTS) unless the request sets amounts.

Why scoped to the resource group rather than filtered by the cost-center tag: a tag filter
leaves out every cost whose meter carries no tag, so the cap would undercount; the group
itself carries the cost-center tag, so cost reports still group it under the cost center.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_azure_native as azure_native

from dsplatform.infra.components.common import child

# Azure sends a budget alert only to contacts; with no e-mail address in the request, the
# people holding Owner on the scope are alerted instead ("Budgets - Create Or Update",
# https://learn.microsoft.com/rest/api/consumption/budgets/create-or-update).
FALLBACK_CONTACT_ROLES = ("Owner",)


@dataclass(frozen=True)
class BudgetArgs:
    """Only what a budget needs, so tests can build one without a whole environment."""

    budget_name: str
    resource_group_id: pulumi.Input[str]
    amount: float
    thresholds: tuple[int, ...]
    contact_emails: tuple[str, ...]
    # "The start date must be first of the month" and "Past start date should be selected
    # within the timegrain period" (ConsumptionBudgetData.TimePeriod): the first day of the
    # month it is created in. Later runs ignore changes to it (see ignore_changes below).
    start_date: date


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def notification_key(threshold: int) -> str:
    """Stable keys, so reordering thresholds in the request changes nothing in Azure."""
    return f"actual-gte-{threshold}-percent"


class EnvironmentBudget(pulumi.ComponentResource):
    budget: azure_native.consumption.Budget

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dsplatform:azure:EnvironmentBudget", name, None, opts)
        recipients = (
            {"contact_emails": list(args.contact_emails)} if args.contact_emails else {"contact_roles": list(FALLBACK_CONTACT_ROLES)}
        )
        self.budget = azure_native.consumption.Budget(
            f"{name}-budget",
            budget_name=args.budget_name,
            scope=args.resource_group_id,
            amount=args.amount,
            category="Cost",
            time_grain="Monthly",
            time_period={"start_date": f"{args.start_date.isoformat()}T00:00:00Z"},
            notifications={
                notification_key(threshold): {
                    "enabled": True,
                    "operator": "GreaterThanOrEqualTo",
                    "threshold": threshold,
                    "threshold_type": "Actual",
                    **recipients,
                }
                for threshold in args.thresholds
            },
            # The start date is only valid in the month the budget is created; keep the one
            # Azure has instead of moving it (and failing) on every later deployment.
            opts=child(self).merge(pulumi.ResourceOptions(ignore_changes=["timePeriod.startDate"])),
        )
        self.register_outputs({"budget_id": self.budget.id})

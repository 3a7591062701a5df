"""The seed roles (ARCHITECTURE.md → permission gate). Administrators edit them in Settings → Roles;
`seed_roles` only creates what is missing, so an administrator's changes survive upgrades. The seed
descriptions are stored in English and shown in the user's language while they are unchanged."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

ALL = ["view", "add", "change", "delete", "export", "assign"]
FINANCE_HIDDEN = {"credit_limit": "hidden", "payment_terms": "hidden", "bank_account": "hidden"}
SETTINGS_TYPES = ["users.user", "users.team", "users.role", "core.customfielddefinition", "core.picklistoption"]
SALES_SETTINGS = ["sales.pipeline", "sales.product", "sales.pricelist", "sales.target"]
DOCUMENTS = ["sales.quote", "sales.salesorder", "sales.contract", "sales.payment"]
ACTIVITY_TYPES = ["activities.activity", "activities.task"]
READ_CATALOGUE: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "sales.pipeline": (["view"], "all", {}),
    "sales.product": (["view"], "all", {}),
    "sales.pricelist": (["view"], "all", {}),
}
READ_DIRECTORY: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "users.user": (["view"], "all", {}),
    "users.team": (["view"], "all", {}),
    "customers.tag": (["view", "add"], "all", {}),
}

# role code → (English name, Chinese name, description, {object type: (actions, scope, field rules)})
SEED: dict[str, tuple[str, str, str, dict[str, tuple[list[str], str, dict[str, str]]]]] = {
    "administrator": (
        "Administrator",
        "系统管理员",
        gettext_noop("Everything, including users, roles and settings."),
        {
            t: (ALL, "all", {})
            for t in [
                "customers.customer",
                "customers.contact",
                "customers.tag",
                "sales.lead",
                "sales.opportunity",
                *DOCUMENTS,
                *ACTIVITY_TYPES,
                *SALES_SETTINGS,
                *SETTINGS_TYPES,
            ]
        },
    ),
    "sales_manager": (
        "Sales manager",
        "销售经理",
        gettext_noop("Leads, customers, opportunities and transactions of their team and its sub-teams; sets targets."),
        {
            "customers.customer": (ALL, "team", {}),
            "customers.contact": (ALL, "team", {}),
            "sales.lead": (ALL, "team", {}),
            "sales.opportunity": (ALL, "team", {}),
            **{t: (ALL, "team", {}) for t in DOCUMENTS + ACTIVITY_TYPES},
            # the targets of their own team, its sub-teams and their reps (a rep's target belongs to the rep's team)
            "sales.target": (["view", "add", "change", "delete"], "team", {}),
            **READ_CATALOGUE,
            **READ_DIRECTORY,
        },
    ),
    "sales_rep": (
        "Sales rep",
        "销售代表",
        gettext_noop("Their own leads, customers, contacts, opportunities and quotes; no finance fields."),
        {
            "customers.customer": (["view", "add", "change"], "own", FINANCE_HIDDEN),
            "customers.contact": (["view", "add", "change"], "own", {}),
            "sales.lead": (["view", "add", "change"], "own", {}),
            "sales.opportunity": (["view", "add", "change"], "own", {}),
            "sales.quote": (["view", "add", "change"], "own", {}),
            "sales.salesorder": (["view", "add"], "own", {}),
            "sales.contract": (["view", "add", "change"], "own", {}),
            "sales.payment": (["view"], "own", {}),
            **{t: (["view", "add", "change"], "own", {}) for t in ACTIVITY_TYPES},
            "sales.target": (["view"], "all", {}),
            **READ_CATALOGUE,
            **READ_DIRECTORY,
        },
    ),
    "marketing": (
        "Marketing",
        "市场专员",
        gettext_noop("All leads; reads customers and contacts for segments; no finance fields."),
        {
            "customers.customer": (["view", "export"], "all", FINANCE_HIDDEN),
            "customers.contact": (["view", "export"], "all", {}),
            "sales.lead": (["view", "add", "change", "export", "assign"], "all", {}),
            "sales.opportunity": (["view", "export"], "all", {}),
            **{t: (["view", "add", "change"], "own", {}) for t in ACTIVITY_TYPES},
            **READ_CATALOGUE,
            **READ_DIRECTORY,
        },
    ),
    "service_agent": (
        "Service agent",
        "客服专员",
        gettext_noop("Reads every customer and updates contacts; no finance fields or transactions."),
        {
            "customers.customer": (["view"], "all", FINANCE_HIDDEN),
            "customers.contact": (["view", "change"], "all", {}),
            **{t: (["view", "add", "change"], "own", {}) for t in ACTIVITY_TYPES},
            **READ_DIRECTORY,
        },
    ),
    "finance": (
        "Finance",
        "财务",
        gettext_noop("Reads every customer and opportunity; maintains finance fields, orders, contracts and payments."),
        {
            "customers.customer": (
                ["view", "change", "export"],
                "all",
                {"name": "readonly", "kind": "readonly", "lifecycle_stage": "readonly"},
            ),
            "customers.contact": (["view"], "all", {}),
            "sales.opportunity": (["view", "export"], "all", {}),
            "sales.quote": (["view", "export"], "all", {}),
            **{t: (["view", "add", "change", "export"], "all", {}) for t in DOCUMENTS[1:]},
            **{t: (["view", "add", "change"], "own", {}) for t in ACTIVITY_TYPES},
            **READ_CATALOGUE,
            **READ_DIRECTORY,
        },
    ),
}


def seed_roles(Role: Any, RolePermission: Any) -> None:  # noqa: N803 - model classes, also historical ones
    for code, (name_en, name_zh, description, perms) in SEED.items():
        role, created = Role.objects.get_or_create(
            code=code, defaults={"name_en": name_en, "name_zh": name_zh, "description": description}
        )
        for object_type, (actions, scope, rules) in perms.items():
            RolePermission.objects.get_or_create(
                role=role,
                object_type=object_type,
                defaults={"actions": list(actions), "scope": scope, "field_rules": dict(rules)},
            )

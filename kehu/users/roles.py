"""The seed roles (ARCHITECTURE.md → permission gate). Administrators edit them in Settings → Roles;
`seed_roles` only creates what is missing, so an administrator's changes survive upgrades."""

from __future__ import annotations

from typing import Any

ALL = ["view", "add", "change", "delete", "export", "assign"]
FINANCE_HIDDEN = {"credit_limit": "hidden", "payment_terms": "hidden", "bank_account": "hidden"}
SETTINGS_TYPES = ["users.user", "users.team", "users.role", "core.customfielddefinition", "core.picklistoption"]
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
        "Everything, including users, roles and settings.",
        {
            t: (ALL, "all", {})
            for t in ["customers.customer", "customers.contact", "customers.tag", "sales.lead", *SETTINGS_TYPES]
        },
    ),
    "sales_manager": (
        "Sales manager",
        "销售经理",
        "Leads, customers and contacts of their team and its sub-teams.",
        {
            "customers.customer": (ALL, "team", {}),
            "customers.contact": (ALL, "team", {}),
            "sales.lead": (ALL, "team", {}),
            **READ_DIRECTORY,
        },
    ),
    "sales_rep": (
        "Sales rep",
        "销售代表",
        "Their own leads, customers and contacts; no finance fields.",
        {
            "customers.customer": (["view", "add", "change"], "own", FINANCE_HIDDEN),
            "customers.contact": (["view", "add", "change"], "own", {}),
            "sales.lead": (["view", "add", "change"], "own", {}),
            **READ_DIRECTORY,
        },
    ),
    "marketing": (
        "Marketing",
        "市场专员",
        "All leads; reads customers and contacts for segments; no finance fields.",
        {
            "customers.customer": (["view", "export"], "all", FINANCE_HIDDEN),
            "customers.contact": (["view", "export"], "all", {}),
            "sales.lead": (["view", "add", "change", "export", "assign"], "all", {}),
            **READ_DIRECTORY,
        },
    ),
    "service_agent": (
        "Service agent",
        "客服专员",
        "Reads every customer and updates contacts; no finance fields or transactions.",
        {
            "customers.customer": (["view"], "all", FINANCE_HIDDEN),
            "customers.contact": (["view", "change"], "all", {}),
            **READ_DIRECTORY,
        },
    ),
    "finance": (
        "Finance",
        "财务",
        "Reads every customer and maintains their finance fields.",
        {
            "customers.customer": (
                ["view", "change", "export"],
                "all",
                {"name": "readonly", "kind": "readonly", "lifecycle_stage": "readonly"},
            ),
            "customers.contact": (["view"], "all", {}),
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

"""How the reports plug into pages core owns: the sidebar's "Reports" group."""

from __future__ import annotations

from typing import Any

from kehu.core import permissions, registry


def nav(user: Any) -> dict[str, Any]:
    return {
        "reports": permissions.can(user, "sales.opportunity", "view"),
        "report_targets": all(permissions.can(user, "sales.target", a) for a in ("add", "change")),
    }


registry.add_hook("nav", nav)

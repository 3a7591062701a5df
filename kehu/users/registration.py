"""Settings objects: the gate checks actions on them; they have no owner or data scope."""

from kehu.core import registry
from kehu.core.models import CustomFieldDefinition, PicklistOption
from kehu.users.models import Role, Team, User

registry.register(
    registry.ObjectType(
        "users.user",
        User,
        ("username", "display_name", "email", "phone", "team", "roles", "is_active", "language"),
        custom_fields=False,
        owned=False,
    )
)
registry.register(registry.ObjectType("users.team", Team, ("name", "parent", "lead"), custom_fields=False, owned=False))
registry.register(
    registry.ObjectType(
        "users.role", Role, ("code", "name_en", "name_zh", "description"), custom_fields=False, owned=False
    )
)
registry.register(
    registry.ObjectType(
        "core.customfielddefinition",
        CustomFieldDefinition,
        ("object_type", "name", "label_en", "label_zh", "type", "required", "choices", "help_text", "order"),
        custom_fields=False,
        owned=False,
    )
)
registry.register(
    registry.ObjectType(
        "core.picklistoption",
        PicklistOption,
        ("list", "value", "label_en", "label_zh", "order", "active"),
        custom_fields=False,
        owned=False,
    )
)

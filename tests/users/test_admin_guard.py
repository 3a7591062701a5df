"""An administrator cannot lock everyone out of role management."""

import pytest
from django.core.exceptions import ValidationError

from kehu.users import services
from kehu.users.models import Role, RolePermission, User


@pytest.fixture
def admin(db):
    user = User.objects.create_user("boss", password="x-Very-long-pass-1")
    user.roles.add(Role.objects.get(code="administrator"))
    return user


def test_removing_role_rights_from_the_only_administrator_role_is_refused(admin):
    role = Role.objects.get(code="administrator")
    grants = {p.object_type: (p.actions, p.scope, p.field_rules) for p in role.permissions.all()}
    grants["users.role"] = (["view"], "all", {})
    with pytest.raises(ValidationError, match="nobody able to manage roles"):
        services.save_role(actor=admin, role=role, data={}, grants=grants)
    assert "change" in RolePermission.objects.get(role=role, object_type="users.role").actions


def test_deactivating_the_last_administrator_is_refused(admin):
    with pytest.raises(ValidationError):
        services.update_user(actor=admin, user=admin, values={"is_active": False})
    admin.refresh_from_db()
    assert admin.is_active


def test_a_second_administrator_makes_the_change_possible(admin):
    other = User.objects.create_user("deputy", password="x-Very-long-pass-2")
    other.roles.add(Role.objects.get(code="administrator"))
    services.update_user(actor=admin, user=admin, values={"is_active": False})
    admin.refresh_from_db()
    assert not admin.is_active

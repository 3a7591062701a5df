"""Who sets whose sales targets: the data scope of the grant on `sales.target`. The seed sales manager sets the
targets of their own team, its sub-teams and their reps (a rep's target belongs to the rep's team); the
administrator sets every target. Existing databases get the narrower seed grant from a data migration.

Teams: 销售部 (manager) → 华东区 (east_manager, rep) → 上海组 (rep_sh); 销售部 → 华南区 (rep_south); 总部 (finance).
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics.scope import month_start
from kehu.sales.models import Target
from kehu.sales.services.targets import set_target
from kehu.users.models import RolePermission, User

pytestmark = pytest.mark.django_db
START = month_start(timezone.localdate())
YEAR = timezone.localdate().year


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_manager_sets_targets_of_their_team_its_sub_teams_and_reps_only(
    role_users: dict[str, User], team_tree: dict[str, Any]
) -> None:
    east = fresh(role_users["east_manager"])
    for who in ({"user": role_users["rep"]}, {"user": role_users["rep_sh"]}, {"team": team_tree["shanghai"]}):
        assert set_target(actor=east, period="month", start=START, amount="100", **who) is not None
    for who in ({"user": role_users["rep_south"]}, {"team": team_tree["south"]}, {"team": team_tree["sales"]}):
        with pytest.raises(PermissionDenied):
            set_target(actor=east, period="month", start=START, amount="100", **who)
    assert not Target.objects.filter(user=role_users["rep_south"]).exists()
    assert not Target.objects.filter(team__in=[team_tree["south"], team_tree["sales"]]).exists()

    # a target outside their team, set by the administrator, is not theirs to change or remove
    admin = fresh(role_users["admin"])
    set_target(actor=admin, period="month", start=START, amount="500", user=role_users["rep_south"])
    with pytest.raises(PermissionDenied):
        set_target(actor=east, period="month", start=START, amount="1", user=role_users["rep_south"])
    with pytest.raises(PermissionDenied):
        set_target(actor=east, period="month", start=START, amount="0", user=role_users["rep_south"])
    assert Target.objects.get(user=role_users["rep_south"]).amount == Decimal("500.00")
    # the manager of the whole sales department sets the southern rep's target; the finance department is not theirs
    top = fresh(role_users["manager"])
    set_target(actor=top, period="month", start=START, amount="600", user=role_users["rep_south"])
    with pytest.raises(PermissionDenied):
        set_target(actor=top, period="month", start=START, amount="600", user=role_users["finance"])
    # the administrator sets any target
    assert set_target(actor=admin, period="month", start=START, amount="1", team=team_tree["hq"]) is not None


def _team_options(html: str) -> set[str]:
    select = html.split('name="team"', 1)[1].split("</select>", 1)[0]
    return {part.split('"', 1)[0] for part in select.split('value="')[1:]}


def test_the_targets_editor_lists_only_the_teams_in_scope(
    role_users: dict[str, User], team_tree: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(role_users["east_manager"])
    url = reverse("analytics:targets")

    html = client.get(url).content.decode()
    assert _team_options(html) == {str(team_tree["east"].pk), str(team_tree["shanghai"].pk)}
    assert f'<option value="{team_tree["east"].pk}" selected>' in html  # their own team first
    assert str(role_users["rep_south"]) not in html

    # another team is refused, and nothing it posts is saved
    south = team_tree["south"]
    assert client.get(url, {"team": south.pk}).status_code == 400
    jan = dt.date(YEAR, 1, 1).isoformat()
    r = client.post(f"{url}?team={south.pk}&year={YEAR}&kind=month", {f"a-u{role_users['rep_south'].pk}-{jan}": "9"})
    assert r.status_code == 400 and not Target.objects.exists()

    # the administrator keeps every team
    admin = Client()
    admin.force_login(role_users["admin"])
    assert _team_options(admin.get(url).content.decode()) == {str(t.pk) for t in team_tree.values()}


def test_a_manager_without_a_team_is_told_why_the_editor_is_empty(
    role_users: dict[str, User], user_factory: Any, team_tree: dict[str, Any]
) -> None:
    lonely = user_factory(username="lonely", team=None, roles=["sales_manager"])
    client = Client()
    client.force_login(lonely)
    html = client.get(reverse("analytics:targets")).content.decode()
    assert "There is no team whose targets you may set" in html and "Save targets" not in html


def test_the_seed_grant_is_team_scoped_and_the_roles_page_can_show_it(role_users: dict[str, User]) -> None:
    from kehu.users.settings_forms import RoleMatrix

    grant = RolePermission.objects.get(role__code="sales_manager", object_type="sales.target")
    assert grant.scope == "team"
    role = grant.role
    row = next(r for r in RoleMatrix(role=role).rows if r["key"] == "sales.target")
    # the roles page offers the scope for targets (it showed "All (no owner)" and saved "all" before)
    assert row["owned"] and row["scope"] == "team"


def test_the_data_migration_narrows_an_existing_seed_grant_and_keeps_an_edited_one(db: Any) -> None:
    migration = importlib.import_module("kehu.users.migrations.0004_sales_manager_targets_team_scope")
    grant = RolePermission.objects.get(role__code="sales_manager", object_type="sales.target")
    grant.scope = "all"  # as seeded before
    grant.save()

    migration.to_team(apps, None)
    grant.refresh_from_db()
    assert grant.scope == "team"

    migration.to_all(apps, None)  # the way back
    grant.refresh_from_db()
    assert grant.scope == "all"

    grant.actions = ["view"]  # an administrator's own edit is theirs
    grant.save()
    migration.to_team(apps, None)
    grant.refresh_from_db()
    assert grant.scope == "all"

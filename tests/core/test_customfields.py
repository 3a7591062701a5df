"""Custom fields: validation by type, values in `custom`, filters on SQLite and PostgreSQL, and field rules on
cf_<name> like any other field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kehu.core import customfields, permissions, search
from kehu.core.models import CustomFieldDefinition, Event
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.users import services as user_services
from kehu.users.models import Role, User

pytestmark = pytest.mark.django_db

T = CustomFieldDefinition.Type
CHOICES = [
    {"value": "gold", "label_en": "Gold", "label_zh": "金牌"},
    {"value": "silver", "label_en": "Silver", "label_zh": "银牌"},
    {"value": "go", "label_en": "Go", "label_zh": "围棋"},  # a prefix of "gold": filters must not confuse them
]


def define(actor: User, name: str, type_: str, **extra: Any) -> CustomFieldDefinition:
    data = {"object_type": "customers.customer", "name": name, "label_en": name, "label_zh": name, "type": type_}
    return customfields.save_definition(actor=actor, defn=None, data={**data, **extra})


@pytest.fixture
def fields(superuser: User) -> dict[str, CustomFieldDefinition]:
    return {
        "code": define(superuser, "code", T.TEXT),
        "notes": define(superuser, "notes", T.LONGTEXT),
        "employees": define(superuser, "employees", T.INTEGER),
        "revenue": define(superuser, "revenue", T.DECIMAL),
        "founded": define(superuser, "founded", T.DATE),
        "vip": define(superuser, "vip", T.BOOLEAN),
        "level": define(superuser, "level", T.CHOICE, choices=CHOICES),
        "badges": define(superuser, "badges", T.MULTICHOICE, choices=CHOICES),
        "advisor": define(superuser, "advisor", T.USER),
    }


GOOD = [
    ("code", " A-17 ", "A-17"),
    ("notes", "第一行\n第二行", "第一行\n第二行"),
    ("employees", "250", 250),
    ("employees", 3.0, 3),
    ("revenue", "1234.50", "1234.50"),
    ("revenue", 7, "7"),
    ("founded", "2019-03-01", "2019-03-01"),
    ("founded", dt.date(2020, 1, 2), "2020-01-02"),
    ("vip", True, True),
    ("vip", "false", False),
    ("vip", "yes", True),
    ("level", "gold", "gold"),
    ("badges", ["silver", "gold", "gold"], ["gold", "silver"]),
    ("badges", "go", ["go"]),
]

BAD = [
    ("code", 17),
    ("code", "x" * 256),
    ("notes", "x" * 10001),
    ("employees", "many"),
    ("employees", 2.5),
    ("employees", True),
    ("revenue", "12,5"),
    ("revenue", "NaN"),
    ("revenue", "Infinity"),
    ("revenue", False),
    ("founded", "01/03/2019"),
    ("founded", "2019-02-30"),
    ("vip", "maybe"),
    ("level", "bronze"),
    ("level", "Gold"),
    ("badges", ["gold", "bronze"]),
    ("badges", {"gold": True}),
    ("advisor", "someone"),
    ("advisor", 999999),
]


@pytest.mark.parametrize(("name", "raw", "stored"), GOOD)
def test_good_values_are_cleaned(fields: dict[str, CustomFieldDefinition], name: str, raw: Any, stored: Any) -> None:
    assert customfields.clean("customers.customer", {name: raw}) == {name: stored}


@pytest.mark.parametrize(("name", "raw"), BAD)
def test_bad_values_are_rejected_under_the_field_name(
    fields: dict[str, CustomFieldDefinition], name: str, raw: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        customfields.clean("customers.customer", {name: raw})
    assert list(exc.value.message_dict) == [f"cf_{name}"]


def test_user_field_takes_an_active_user_only(fields: Any, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    assert customfields.clean("customers.customer", {"advisor": str(rep.pk)}) == {"advisor": rep.pk}
    user_services.update_user(actor=role_users["admin"], user=rep, values={"is_active": False})
    with pytest.raises(ValidationError) as exc:
        customfields.clean("customers.customer", {"advisor": rep.pk})
    assert "cf_advisor" in exc.value.message_dict


def test_required_and_unknown_keys(superuser: User, fields: Any) -> None:
    define(superuser, "region_code", T.TEXT, required=True)
    with pytest.raises(ValidationError) as exc:
        customfields.clean("customers.customer", {"code": "A", "colour": "red"})
    assert set(exc.value.message_dict) == {"cf_region_code", "cf_colour"}
    with pytest.raises(ValidationError) as exc:
        customfields.clean("customers.customer", {"region_code": "  "} | {"region_code": ""})
    assert "cf_region_code" in exc.value.message_dict
    # a partial update keeps what is not given, and may leave the required field alone
    merged = customfields.clean("customers.customer", {"code": "B"}, current={"region_code": "SH"}, partial=True)
    assert merged == {"region_code": "SH", "code": "B"}
    # clearing an optional value removes its key
    assert customfields.clean("customers.customer", {"code": ""}, current={"code": "B"}, partial=True) == {}


def test_choice_definitions_need_distinct_values(superuser: User) -> None:
    with pytest.raises(ValidationError) as exc:
        define(superuser, "tier", T.CHOICE, choices=[])
    assert "choices" in exc.value.message_dict
    with pytest.raises(ValidationError):
        define(superuser, "tier", T.CHOICE, choices=[{"value": "a"}, {"value": "a"}])
    define(superuser, "tier", T.CHOICE, choices=[{"value": "a"}])
    with pytest.raises(ValidationError) as exc:
        define(superuser, "tier", T.TEXT)
    assert "name" in exc.value.message_dict


def test_values_are_stored_in_custom_and_recorded(fields: Any, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = customer_services.create_customer(
        actor=rep, data={"name": "自定义字段客户"}, custom={"employees": "120", "vip": "true", "badges": ["gold"]}
    )
    stored = Customer.objects.get(pk=customer.pk).custom
    assert stored == {"employees": 120, "vip": True, "badges": ["gold"]}
    created = Event.objects.get(object_id=customer.pk, verb="created", content_type__model="customer")
    assert created.changes["cf_employees"] == [None, 120]

    customer_services.update_customer(actor=rep, customer=customer, values={}, custom={"employees": 130})
    assert Customer.objects.get(pk=customer.pk).custom == {"employees": 130, "vip": True, "badges": ["gold"]}
    updated = Event.objects.get(object_id=customer.pk, verb="updated", content_type__model="customer")
    assert updated.changes == {"cf_employees": [120, 130]}

    before = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        customer_services.update_customer(
            actor=rep, customer=customer, values={"city": "南京"}, custom={"employees": "lots"}
        )
    assert "cf_employees" in exc.value.message_dict
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.city, saved.custom["employees"]) == ("", 130)
    assert Event.objects.count() == before


def test_filter_q_on_every_type(fields: dict[str, CustomFieldDefinition], role_users: dict[str, User]) -> None:
    """Runs on SQLite and on PostgreSQL (CI runs the suite on both): JSON lookups differ between them."""
    rep = role_users["rep"]
    a = customer_services.create_customer(
        actor=rep,
        data={"name": "甲"},
        custom={
            "code": "SH-Alpha",
            "employees": 250,
            "revenue": "1234.50",
            "founded": "2019-03-01",
            "vip": True,
            "level": "gold",
            "badges": ["gold", "silver"],
            "advisor": rep.pk,
        },
    )
    b = customer_services.create_customer(
        actor=rep,
        data={"name": "乙"},
        custom={"code": "BJ-beta", "employees": 25, "revenue": "99", "vip": False, "level": "go", "badges": ["go"]},
    )
    customer_services.create_customer(actor=rep, data={"name": "丙"})

    def hits(name: str, raw: str) -> set[str]:
        q = customfields.filter_q(fields[name], raw)
        return set(Customer.objects.filter(q).values_list("name", flat=True))

    assert hits("code", "alpha") == {a.name}  # text: contains, any case
    assert hits("code", "-") == {a.name, b.name}
    assert hits("employees", "250") == {a.name}
    assert hits("employees", "25") == {b.name}
    assert hits("revenue", "1234.50") == {a.name}
    assert hits("revenue", "1234.5") == {a.name}  # the same number, however many decimals
    assert hits("revenue", "99.00") == {b.name}
    assert hits("founded", "2019-03-01") == {a.name}
    assert hits("vip", "true") == {a.name}
    assert hits("vip", "false") == {b.name}
    assert hits("level", "gold") == {a.name}
    assert hits("level", "go") == {b.name}
    assert hits("badges", "gold") == {a.name}
    assert hits("badges", "go") == {b.name}  # "go" is not found inside "gold"
    assert hits("advisor", str(rep.pk)) == {a.name}
    with pytest.raises(ValidationError):
        customfields.filter_q(fields["employees"], "many")
    with pytest.raises(ValidationError):
        customfields.filter_q(fields["level"], "bronze")


def test_hidden_custom_field_is_unreadable_unwritable_and_unsearchable(
    superuser: User, role_users: dict[str, User], user_factory: Any, team_tree: Any, customer_factory: Any
) -> None:
    define(superuser, "internal_rating", T.TEXT)
    role = user_services.save_role(
        actor=superuser,
        role=None,
        data={"code": "rep_no_rating", "name_en": "Rep without rating", "name_zh": "销售(无评级)"},
        grants={"customers.customer": (["view", "add", "change"], "own", {"cf_internal_rating": "hidden"})},
    )
    limited = user_factory(username="limited", team=team_tree["east"], roles=[])
    user_services.update_user(actor=superuser, user=limited, values={}, roles=[role])
    limited = User.objects.get(pk=limited.pk)
    pol = permissions.policy(limited, Customer)
    assert not pol.can_read("cf_internal_rating")
    assert permissions.policy(role_users["rep"], Customer).can_read("cf_internal_rating")

    with pytest.raises(ValidationError) as exc:
        customer_services.create_customer(actor=limited, data={"name": "带评级"}, custom={"internal_rating": "A+"})
    assert "cf_internal_rating" in exc.value.message_dict
    assert not Customer.objects.filter(name="带评级").exists()

    # a value someone else entered is not a way to find the record
    mine = customer_factory(owner=limited, name="普通客户", actor=superuser, custom={"internal_rating": "绝密评级"})
    assert [h.object_id for h in search.search(superuser, "绝密评级")] == [mine.pk]
    assert search.search(limited, "绝密评级") == []
    assert [h.object_id for h in search.search(limited, "普通客户")] == [mine.pk]
    # and the change history does not show it to them
    created = Event.objects.get(object_id=mine.pk, verb="created", content_type__model="customer")
    assert "cf_internal_rating" in created.changes
    assert "cf_internal_rating" not in permissions.mask_changes(limited, "customers.customer", created.changes)

    assert Role.objects.filter(code="rep_no_rating").exists()

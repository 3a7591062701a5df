"""Keyset pagination: every row exactly once, in order, under ties of the sort column; forged cursors refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.core import permissions
from kehu.core.pagination import SALT, paginate
from kehu.customers.models import Customer
from kehu.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(role_users: dict[str, User], customer_factory: Any) -> list[Customer]:
    rep = role_users["rep"]
    made = [customer_factory(owner=rep, name=f"客户{i % 4}") for i in range(23)]
    # three distinct change times for 23 rows: most rows tie with others on updated_at
    base = timezone.now().replace(microsecond=0)
    for i, c in enumerate(made):
        Customer.objects.filter(pk=c.pk).update(updated_at=base - dt.timedelta(minutes=i % 3))
    return made


def walk(qs: Any, ordering: list[str], size: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(100):
        page = paginate(qs, ordering, cursor, size)
        assert len(page.items) <= size
        seen += [c.pk for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("ordering", [["-updated_at"], ["updated_at"], ["name"], ["-name"], ["-id"], ["id"]])
@pytest.mark.parametrize("size", [1, 7, 23])
def test_pages_cover_every_row_once_in_order(customers: list[Customer], ordering: list[str], size: int) -> None:
    qs = Customer.objects.all()
    seen = walk(qs, ordering, size)
    assert len(seen) == len(set(seen)) == len(customers)
    first = ordering[0]
    tiebreak = "-id" if first.startswith("-") else "id"  # ties are broken by id in the first column's direction
    expected = list(qs.order_by(*dict.fromkeys([first, tiebreak])).values_list("pk", flat=True))
    assert seen == expected


def test_a_page_of_a_gated_queryset_holds_only_visible_rows(
    customers: list[Customer], role_users: dict[str, User], customer_factory: Any
) -> None:
    customer_factory(owner=role_users["rep_south"], name="华南客户")
    seen = walk(permissions.visible(Customer, role_users["rep"]), ["-updated_at"], 5)
    assert sorted(seen) == sorted(c.pk for c in customers)


def test_rows_added_before_the_cursor_do_not_shift_later_pages(
    customers: list[Customer], role_users: dict[str, User], customer_factory: Any
) -> None:
    qs = Customer.objects.all()
    first = paginate(qs, ["-id"], None, 10)
    customer_factory(owner=role_users["rep"], name="新来的")  # newest: sorts before page one
    second = paginate(qs, ["-id"], first.next_cursor, 10)
    assert second.items[0].pk == first.items[-1].pk - 1


def test_the_last_page_has_no_next_cursor(customers: list[Customer]) -> None:
    assert paginate(Customer.objects.all(), ["-updated_at"], None, 23).next_cursor is None
    assert paginate(Customer.objects.all(), ["-updated_at"], None, 22).next_cursor is not None
    assert paginate(Customer.objects.none(), ["-updated_at"], None, 10).items == []


def test_tampered_cursor_is_a_validation_error(customers: list[Customer]) -> None:
    cursor = paginate(Customer.objects.all(), ["-updated_at"], None, 5).next_cursor
    assert cursor
    forged = [cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "garbage", cursor + "x", "e30:1:abc"]
    # signed with the wrong salt, or of the wrong shape for this ordering
    forged += [signing.dumps(["2024-01-01T00:00:00+00:00", 1], salt="other"), signing.dumps([1, 2, 3], salt=SALT)]
    for bad in forged:
        with pytest.raises(ValidationError) as exc:
            paginate(Customer.objects.all(), ["-updated_at"], bad, 5)
        assert "cursor" in exc.value.message_dict

"""/api/v1/events/: hidden fields stay out of an event's extra data, positions are opaque cursors, and the plain
event ids older clients keep still work. (The PostgreSQL ordering by transaction is in tests/core/test_events.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core import events
from kehu.core.models import Event
from kehu.sales import services as sales_services
from kehu.sales.models import Stage
from kehu.users.models import Role, RolePermission
from tests.api.conftest import make_customer, make_lead

pytestmark = pytest.mark.django_db


def feed(api: Any, after: str = "", size: int = 5) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/events/?page_size={size}" + (f"&after={after}" if after else "")
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.json()
        out += r.json()["results"]
        url = r.json()["next"]
    return out


def hide(role_code: str, object_type: str, *fields: str) -> None:
    grant = RolePermission.objects.get(role=Role.objects.get(code=role_code), object_type=object_type)
    grant.field_rules = {**grant.field_rules, **dict.fromkeys(fields, "hidden")}
    grant.save()


def of(rows: list[dict[str, Any]], obj: Any, verb: str) -> list[dict[str, Any]]:
    key = obj._meta.label_lower
    return [e for e in rows if e["object_type"] == key and e["object_id"] == obj.pk and e["verb"] == verb]


def test_disqualify_reason_hidden_from_data_too(users: Any, rep_api: Any, client_for: Any) -> None:
    lead = make_lead(users["rep"], name="预算不足")
    sales_services.disqualify(actor=users["manager"], lead=lead, reason="no_budget")
    [event] = of(feed(rep_api), lead, "disqualified")
    assert event["data"] == {"reason": "no_budget"}
    hide("sales_rep", "sales.lead", "disqualify_reason")
    [event] = of(feed(client_for("rep")), lead, "disqualified")
    assert event["data"] == {} and "disqualify_reason" not in event["changes"]
    assert "no_budget" not in str(event)
    # the manager's role does not hide it
    [event] = of(feed(client_for("manager")), lead, "disqualified")
    assert event["data"] == {"reason": "no_budget"}


def test_stage_ids_hidden_from_data_with_the_stage(users: Any, client_for: Any) -> None:
    rep = users["rep"]
    opp = sales_services.create_opportunity(actor=rep, data={"name": "隐藏阶段", "customer": make_customer(rep)})
    target = Stage.objects.filter(pipeline=opp.pipeline, kind=Stage.Kind.OPEN).exclude(pk=opp.stage_id).first()
    assert target is not None
    sales_services.move_stage(actor=rep, opp=opp, stage=target)
    [event] = of(feed(client_for("rep")), opp, "stage_changed")
    assert set(event["data"]) == {"from", "to"}
    hide("sales_rep", "sales.opportunity", "stage")
    [event] = of(feed(client_for("rep")), opp, "stage_changed")
    assert event["data"] == {} and "stage" not in event["changes"]


def test_price_list_data_follows_the_items_field(users: Any, admin_api: Any) -> None:
    """set_prices() writes {sku: [old, new]}: every such key carries the `items` field (registry data_fields)."""
    from kehu.core import registry

    ot = registry.get("sales.pricelist")
    assert ot.data_field("KH-CRM-STD") == "items"
    lead_type = registry.get("sales.lead")
    assert lead_type.data_field("reason") == "disqualify_reason"
    assert lead_type.data_field("opportunity") is None  # an id of a record gated on its own


def test_every_event_carries_its_cursor_and_next_follows_them(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    rows = feed(rep_api, size=2)
    assert len(rows) >= 3 and len({e["id"] for e in rows}) == len(rows)
    for e in rows:
        assert isinstance(e["cursor"], str) and not e["cursor"].isdigit()
    # resuming from any event's cursor gives exactly the events after it
    middle = len(rows) // 2
    assert [e["id"] for e in feed(rep_api, after=rows[middle]["cursor"])] == [e["id"] for e in rows[middle + 1 :]]
    from kehu.customers import services as customer_services

    customer_services.update_customer(actor=users["rep"], customer=customer, values={"city": "成都"})
    newer = feed(rep_api, after=rows[-1]["cursor"])
    assert [(e["verb"], e["changes"]) for e in newer] == [("updated", {"city": ["", "成都"]})]


def test_plain_event_id_cursor_still_works(users: Any, rep_api: Any) -> None:
    make_customer(users["rep"], name="老客户端")
    rows = feed(rep_api)
    last_but_one = rows[-2]["id"]
    resumed = feed(rep_api, after=str(last_but_one))
    assert [e["id"] for e in resumed] == [rows[-1]["id"]]
    assert [e["id"] for e in feed(rep_api, after="0")] == [e["id"] for e in rows]


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999", "MTIz", "1.2", "%20"])
def test_bad_cursor_is_400_naming_after(rep_api: Any, bad: str) -> None:
    r = rep_api.get(f"/api/v1/events/?after={bad}")
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["after"]


def test_cursor_round_trip() -> None:
    pos = events.Position(123456789, 42)
    assert events.parse_cursor(pos.cursor()) == pos
    assert events.parse_cursor("17") == 17
    with pytest.raises(ValueError):
        events.parse_cursor(events.Position(1, 2).cursor() + "!")


def test_feed_query_has_no_count(users: Any, rep_api: Any, django_assert_max_num_queries: Any) -> None:
    make_customer(users["rep"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert rep_api.get("/api/v1/events/?page_size=2").status_code == 200
    assert not any("COUNT(" in q["sql"].upper() and "core_event" in q["sql"] for q in ctx.captured_queries)
    assert Event.objects.exists()

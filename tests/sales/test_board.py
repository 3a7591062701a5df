"""Opportunity pages: list, board (query count, moves with conflicts), 360° page, conversion, pipeline settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.sales import services
from kehu.sales.models import Lead, Opportunity, Stage

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _deal(owner: Any, name: str, amount: str = "1000", stage: str = "Prospecting") -> Opportunity:
    st = Stage.objects.get(pipeline__code="new_business", name_en=stage)
    return services.create_opportunity(actor=owner, data={"name": name, "amount": amount, "stage": st})


@pytest.fixture
def deals(role_users: dict[str, Any]) -> dict[str, Opportunity]:
    return {
        "rep": _deal(role_users["rep"], "东区商机", "5000"),
        "rep_sh": _deal(role_users["rep_sh"], "上海商机", "7000", "Proposal"),
        "south": _deal(role_users["rep_south"], "南区商机", "9000"),
    }


def test_list_and_board_show_only_the_scope(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    rep = _client(role_users["rep"])
    for url in ("/opportunities/", "/opportunities/board/"):
        body = rep.get(url).content.decode()
        assert "东区商机" in body and "上海商机" not in body and "南区商机" not in body
    east = _client(role_users["east_manager"]).get("/opportunities/board/").content.decode()
    assert "东区商机" in east and "上海商机" in east and "南区商机" not in east


def test_detail_is_404_outside_scope(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    rep = _client(role_users["rep"])
    assert rep.get(f"/opportunities/{deals['rep'].pk}/").status_code == 200
    assert rep.get(f"/opportunities/{deals['south'].pk}/").status_code == 404
    assert rep.post(f"/opportunities/{deals['south'].pk}/move/", {"stage": 1}).status_code == 404
    assert _client(role_users["manager"]).get(f"/opportunities/{deals['south'].pk}/").status_code == 200
    assert _client(role_users["agent"]).get("/opportunities/board/").status_code == 404


def test_board_query_count_does_not_grow_with_cards(
    role_users: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    rep = role_users["rep"]
    for i, stage in enumerate(["Prospecting", "Proposal", "Negotiation"]):  # one card in every open column
        _deal(rep, f"商机{i}", stage=stage)
    client = _client(rep)
    client.get("/opportunities/board/")
    with django_assert_max_num_queries(30) as ctx:
        client.get("/opportunities/board/")
    few = len(ctx.captured_queries)
    for i in range(30):
        _deal(rep, f"更多商机{i}", stage=["Prospecting", "Proposal", "Negotiation"][i % 3])
    with django_assert_max_num_queries(few) as ctx:
        assert client.get("/opportunities/board/").status_code == 200


def test_board_move_ok_conflict_and_undo(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    opp = deals["rep"]
    st = {s.name_en: s for s in Stage.objects.filter(pipeline__code="new_business")}
    client = _client(role_users["rep"])
    url = f"/opportunities/{opp.pk}/move/"
    r = client.post(url, {"stage": st["Proposal"].pk, "version": opp.version}, HTTP_ACCEPT="application/json")
    body = r.json()
    assert r.status_code == 200 and body["ok"] and body["columns"][str(st["Proposal"].pk)]["count"] == 1
    # a second mover with the old version gets a conflict; nothing changes
    r = client.post(url, {"stage": st["Won"].pk, "version": opp.version}, HTTP_ACCEPT="application/json")
    assert r.status_code == 409 and not r.json()["ok"]
    opp.refresh_from_db()
    assert opp.stage == st["Proposal"]
    # undo: back to where it was, with the new version
    r = client.post(url, {"stage": body["undo"]["stage"], "version": body["version"]}, HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    opp.refresh_from_db()
    assert opp.stage == st["Prospecting"]
    # lost without reason: 400 and no change
    r = client.post(url, {"stage": st["Lost"].pk, "version": opp.version}, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "reason" in r.json()["message"]
    # no permission (finance sees every deal, may not change): 403, no change
    r = _client(role_users["finance"]).post(url, {"stage": st["Won"].pk}, HTTP_ACCEPT="application/json")
    assert r.status_code == 403
    opp.refresh_from_db()
    assert opp.stage == st["Prospecting"]


def test_column_totals_are_kept_apart_per_currency(role_users: dict[str, Any]) -> None:
    rep = role_users["rep"]
    st = Stage.objects.get(pipeline__code="new_business", name_en="Prospecting")
    for name, amount, currency in (("人民币单", "1000", "CNY"), ("人民币单二", "500", "CNY"), ("美元单", "200", "USD")):
        services.create_opportunity(actor=rep, data={"name": name, "amount": amount, "currency": currency, "stage": st})
    response = _client(rep).get("/opportunities/board/")
    col = next(c for c in response.context["columns"] if c.key == str(st.pk))
    # 1,500 CNY and 200 USD, never 1,700 of anything
    assert [(t["currency"], t["amount"], t["weighted"]) for t in col.totals] == [
        ("CNY", Decimal("1500"), Decimal("1500") * st.probability / 100),
        ("USD", Decimal("200"), Decimal("200") * st.probability / 100),
    ]
    body = response.content.decode()
    assert "1,500 CNY" in body and "200 USD" in body and "1,700" not in body
    # the totals a move returns are split the same way
    opp = Opportunity.objects.get(name="美元单")
    r = _client(rep).post(
        f"/opportunities/{opp.pk}/move/",
        {"stage": Stage.objects.get(pipeline__code="new_business", name_en="Proposal").pk, "version": opp.version},
        HTTP_ACCEPT="application/json",
    )
    assert r.json()["columns"][str(st.pk)]["totals"] == [{"currency": "CNY", "amount": "1,500", "weighted": "150"}]


def test_load_more_column(role_users: dict[str, Any]) -> None:
    rep = role_users["rep"]
    for i in range(55):
        _deal(rep, f"批量{i}", amount=str(100 + i))
    client = _client(rep)
    board = client.get("/opportunities/board/").content.decode()
    assert board.count('class="deal-card"') == 50 and "Load more" in board
    stage = Stage.objects.get(pipeline__code="new_business", name_en="Prospecting")
    from kehu.sales import queries

    col = next(c for c in queries.board_columns(stage.pipeline) if c.key == str(stage.pk))
    queries.fill_board([col], Opportunity.objects.filter(owner=rep))
    more = client.get(
        f"/opportunities/board/column/?pipeline={stage.pipeline_id}&column={stage.pk}&cursor={col.next_cursor}"
    ).content.decode()
    assert more.count('class="deal-card"') == 5


def test_convert_lead_with_opportunity(role_users: dict[str, Any], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="王芳", company="杭州新客户有限公司")
    stage = Stage.objects.get(pipeline__code="new_business", name_en="Proposal")
    r = _client(rep).post(
        f"/leads/{lead.pk}/convert/",
        {
            "target": "new",
            "with_opportunity": "1",
            "opp_pipeline": stage.pipeline_id,
            "opp_stage": stage.pk,
            "opp_amount": "88000",
            "opp_expected_close": "2030-06-30",
        },
    )
    opp = Opportunity.objects.get(lead=lead)
    assert r.status_code == 302 and r["Location"] == f"/opportunities/{opp.pk}/"
    assert opp.stage == stage and str(opp.amount) == "88000.00" and str(opp.expected_close) == "2030-06-30"
    assert Lead.objects.get(pk=lead.pk).status == "converted"


def test_convert_bad_amount_saves_nothing(role_users: dict[str, Any], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="赵磊", company="无效金额公司")
    r = _client(rep).post(f"/leads/{lead.pk}/convert/", {"target": "new", "with_opportunity": "1", "opp_amount": "abc"})
    assert r.status_code == 200 and "amount" in r.content.decode().lower()
    assert Lead.objects.get(pk=lead.pk).status != "converted" and not Opportunity.objects.filter(lead=lead).exists()


def test_pipeline_settings_for_admins_only(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    assert _client(role_users["manager"]).get("/settings/pipelines/").status_code == 404
    assert _client(role_users["rep"]).post("/settings/pipelines/new/", {"name_en": "X"}).status_code == 404
    admin = _client(role_users["admin"])
    assert admin.get("/settings/pipelines/").status_code == 200
    stage = deals["rep"].stage
    r = admin.post(f"/settings/pipelines/stages/{stage.pk}/delete/", follow=True)
    assert "cannot be deleted" in r.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()
    r = admin.post(
        "/settings/pipelines/new/", {"name_en": "Upsell", "name_zh": "增购", "currency": "cny", "active": "on"}
    )
    assert r.status_code == 302


def test_read_only_roles_get_no_moving(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    """Finance and marketing may see deals but not change their stage: no "Move to…" menu, no dragging,
    no stage path buttons; a rep who may move gets all three."""
    opp = deals["rep"]
    for name in ("finance", "marketing"):
        client = _client(role_users[name])
        board = client.get("/opportunities/board/")
        if board.status_code == 404:  # a role that may not see deals at all
            continue
        body = board.content.decode()
        assert "东区商机" in body
        assert "data-move-to" not in body and "deal-menu" not in body and "data-can-move" not in body
        assert "is-readonly" in body
        detail = client.get(f"/opportunities/{opp.pk}/").content.decode()
        assert f"/opportunities/{opp.pk}/move/" not in detail
    rep = _client(role_users["rep"])
    body = rep.get("/opportunities/board/").content.decode()
    assert "data-move-to" in body and "data-can-move" in body and f"/opportunities/{opp.pk}/move/undo/" in body
    assert f"/opportunities/{opp.pk}/move/" in rep.get(f"/opportunities/{opp.pk}/").content.decode()


def test_stage_field_rule_hides_moving(role_users: dict[str, Any], deals: dict[str, Opportunity]) -> None:
    """A role that may change deals but whose field rule makes `stage` read-only cannot move them either."""
    from kehu.core import permissions
    from kehu.users.models import RolePermission

    rep = role_users["rep"]
    grant = RolePermission.objects.get(role__code="sales_rep", object_type="sales.opportunity")
    grant.field_rules = {**(grant.field_rules or {}), "stage": "readonly"}
    grant.save()
    permissions.forget(rep)
    body = _client(rep).get("/opportunities/board/").content.decode()
    assert "东区商机" in body and "data-move-to" not in body and "data-can-move" not in body
    column = (
        _client(rep)
        .get(f"/opportunities/board/column/?pipeline={deals['rep'].pipeline_id}&column={deals['rep'].stage_id}")
        .content.decode()
    )
    assert "data-move-to" not in column
    detail = _client(rep).get(f"/opportunities/{deals['rep'].pk}/").content.decode()
    assert f"/opportunities/{deals['rep'].pk}/move/" not in detail

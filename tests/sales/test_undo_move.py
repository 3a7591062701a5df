"""Undoing a stage move takes it back: the stay is removed, the previous one reopened, the furthest stage and
the funnel are as before the move, and the event log keeps the move and its undo. Refused when too late, by
someone else, or after the deal changed since; the board's Undo button uses it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from kehu.analytics.queries import funnel
from kehu.core.models import Event
from kehu.sales import services
from kehu.sales.models import Opportunity, Stage, StageHistory
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def _stages() -> dict[str, Stage]:
    return {s.name_en: s for s in Stage.objects.filter(pipeline__code="new_business")}


@pytest.fixture
def deal(role_users: dict[str, User]) -> Opportunity:
    rep = role_users["rep"]
    opp = services.create_opportunity(
        actor=rep,
        data={"name": "撤销测试", "amount": "5000", "probability": 35},
        at=timezone.now() - dt.timedelta(days=3),
    )
    return Opportunity.objects.get(pk=opp.pk)


def history(opp: Opportunity) -> list[tuple[str, bool]]:
    return [
        (h.stage.name_en, h.left_at is None)
        for h in StageHistory.objects.filter(opportunity=opp).select_related("stage").order_by("entered_at", "id")
    ]


def reach(user: User) -> dict[str, int]:
    today = timezone.localdate()
    f = funnel(User.objects.get(pk=user.pk), start=today - dt.timedelta(days=5), end=today)
    [p] = [p for p in f.pipelines if p.name == "New business"] or f.pipelines
    return {s.name: s.reached for s in p.stages}


def test_undo_reverses_the_move(deal: Opportunity, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    st = _stages()
    before = Opportunity.objects.get(pk=deal.pk)
    funnel_before = reach(role_users["admin"])
    services.move_stage(actor=rep, opp=deal, stage=st["Negotiation"], expected_version=deal.version)
    deal.refresh_from_db()
    assert deal.max_stage_order == st["Negotiation"].order
    services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    deal.refresh_from_db()
    assert history(deal) == [("Prospecting", True)]  # not [Prospecting, Negotiation, Prospecting]
    assert deal.stage == st["Prospecting"] and deal.status == "open"
    assert deal.max_stage_order == before.max_stage_order
    assert deal.stage_entered_at == before.stage_entered_at
    assert deal.probability == 35 and deal.probability_overridden  # the hand-set probability is back
    assert reach(role_users["admin"]) == funnel_before  # Negotiation is not counted as reached
    verbs = list(
        Event.objects.filter(object_id=deal.pk, verb="stage_changed").order_by("id").values_list("data", flat=True)
    )
    assert verbs == [
        {"from": st["Prospecting"].pk, "to": st["Negotiation"].pk},
        {"from": st["Negotiation"].pk, "to": st["Prospecting"].pk, "undo": True},
    ]


def test_undo_of_lost_restores_reason_and_close_date(deal: Opportunity, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    st = _stages()
    services.move_stage(actor=rep, opp=deal, stage=st["Proposal"])
    deal.refresh_from_db()
    services.move_stage(actor=rep, opp=deal, stage=st["Lost"], loss_reason="price", loss_note="太贵")
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.closed_on and deal.probability == 0
    services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    deal.refresh_from_db()
    assert deal.stage == st["Proposal"] and deal.status == "open"
    assert (deal.closed_on, deal.loss_reason, deal.loss_note, deal.probability) == (None, "", "", 35)
    assert history(deal) == [("Prospecting", False), ("Proposal", True)]


def test_undo_of_a_move_to_another_pipeline(deal: Opportunity, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    other = Stage.objects.exclude(pipeline__code="new_business").filter(kind="open").order_by("pipeline", "order")
    target = other.first()
    assert target is not None
    services.move_stage(actor=rep, opp=deal, stage=target)
    deal.refresh_from_db()
    services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    deal.refresh_from_db()
    assert deal.pipeline.code == "new_business" and deal.stage.name_en == "Prospecting"
    assert deal.max_stage_order == _stages()["Prospecting"].order


def test_undo_is_refused_when_stale_late_foreign_or_repeated(deal: Opportunity, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    st = _stages()
    services.move_stage(actor=rep, opp=deal, stage=st["Proposal"])
    deal.refresh_from_db()
    moved = deal.version
    # a stale version: the same conflict a stale move gets, nothing changes
    with pytest.raises(services.StageConflict):
        services.undo_move(actor=rep, opp=deal, expected_version=moved - 1)
    # someone else cannot undo the rep's move (a manager who may change the deal)
    with pytest.raises(services.UndoRefused) as exc:
        services.undo_move(actor=role_users["manager"], opp=deal, expected_version=moved)
    assert "changed since" in exc.value.messages[0]
    # a read-only role is refused by the gate
    with pytest.raises(PermissionDenied):
        services.undo_move(actor=role_users["finance"], opp=deal, expected_version=moved)
    # changed since (amount edited): version differs → conflict; with the new version → refused
    services.update_opportunity(actor=rep, opp=deal, values={"amount": "6000"})
    deal.refresh_from_db()
    with pytest.raises(services.StageConflict):
        services.undo_move(actor=rep, opp=deal, expected_version=moved)
    with pytest.raises(services.UndoRefused):
        services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    assert history(deal) == [("Prospecting", False), ("Proposal", True)]
    # too late: more than two minutes after the move
    services.move_stage(actor=rep, opp=deal, stage=st["Negotiation"])
    deal.refresh_from_db()
    earlier = timezone.now() - dt.timedelta(minutes=3)
    StageHistory.objects.filter(opportunity=deal, left_at__isnull=True).update(entered_at=earlier)
    StageHistory.objects.filter(opportunity=deal, stage=st["Proposal"]).update(
        entered_at=earlier - dt.timedelta(minutes=1), left_at=earlier
    )
    with pytest.raises(services.UndoRefused) as exc:
        services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    assert "Too late" in exc.value.messages[0]
    deal.refresh_from_db()
    assert deal.stage == st["Negotiation"]


def test_undo_only_once(deal: Opportunity, role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    st = _stages()
    services.move_stage(actor=rep, opp=deal, stage=st["Proposal"])
    deal.refresh_from_db()
    services.move_stage(actor=rep, opp=deal, stage=st["Negotiation"])
    deal.refresh_from_db()
    services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    deal.refresh_from_db()
    with pytest.raises(ValidationError):
        services.undo_move(actor=rep, opp=deal, expected_version=deal.version)
    assert history(deal) == [("Prospecting", False), ("Proposal", True)]


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_undo_endpoint(deal: Opportunity, role_users: dict[str, User]) -> None:
    st = _stages()
    client = _client(role_users["rep"])
    r = client.post(
        f"/opportunities/{deal.pk}/move/",
        {"stage": st["Proposal"].pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
    )
    body = r.json()
    assert body["undo_url"] == f"/opportunities/{deal.pk}/move/undo/"
    assert body["columns"][str(st["Proposal"].pk)]["count"] == 1
    # a stale version: 409 with the conflict message, nothing changes
    r = client.post(body["undo_url"], {"version": body["version"] - 1}, HTTP_ACCEPT="application/json")
    assert r.status_code == 409 and not r.json()["ok"] and "Reload" in r.json()["message"]
    r = client.post(body["undo_url"], {"version": body["version"]}, HTTP_ACCEPT="application/json")
    undone = r.json()
    assert r.status_code == 200 and undone["ok"] and undone["stage"] == st["Prospecting"].pk
    assert undone["version"] == body["version"] + 1
    assert undone["columns"][str(st["Proposal"].pk)]["count"] == 0
    assert undone["columns"][str(st["Prospecting"].pk)]["count"] == 1
    assert history(deal) == [("Prospecting", True)]
    # a second undo: refused with a clear message
    r = client.post(body["undo_url"], {"version": undone["version"]}, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "can no longer be undone" in r.json()["message"]
    # without JSON: a redirect with the message
    r = client.post(body["undo_url"], {"version": undone["version"]}, follow=True)
    assert "can no longer be undone" in r.content.decode()
    # finance may see the deal but not move it
    r = _client(role_users["finance"]).post(body["undo_url"], {"version": "1"}, HTTP_ACCEPT="application/json")
    assert r.status_code == 403

"""/api/v1/opportunities/ and /api/v1/pipelines/: scope, writes through the services, move with conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.sales import services
from kehu.sales.models import Opportunity, Stage

pytestmark = pytest.mark.django_db


def _stages() -> dict[str, Stage]:
    return {s.name_en: s for s in Stage.objects.filter(pipeline__code="new_business")}


def test_create_read_and_scope(users: dict[str, Any], client_for: Any) -> None:
    rep = client_for("rep")
    r = rep.post("/api/v1/opportunities/", {"name": "API 商机", "amount": "1000.00"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["probability"] == 10 and body["status"] == "open" and body["contact_roles"] == []
    assert client_for("rep2").get(f"/api/v1/opportunities/{body['id']}/").status_code == 404
    assert client_for("manager").get(f"/api/v1/opportunities/{body['id']}/").status_code == 200
    ids = [o["id"] for o in client_for("rep2").get("/api/v1/opportunities/").json()["results"]]
    assert body["id"] not in ids


def test_move_conflict_and_loss_reason(users: dict[str, Any], client_for: Any) -> None:
    opp = services.create_opportunity(actor=users["rep"], data={"name": "移动测试", "amount": "500"})
    st = _stages()
    api = client_for("rep")
    url = f"/api/v1/opportunities/{opp.pk}/move/"
    r = api.post(url, {"stage": st["Proposal"].pk, "version": opp.version}, format="json")
    assert r.status_code == 200 and r.json()["stage"] == st["Proposal"].pk
    r = api.post(url, {"stage": st["Won"].pk, "version": opp.version}, format="json")
    assert r.status_code == 409 and "stage" in r.json()["errors"]
    r = api.post(url, {"stage": st["Lost"].pk}, format="json")
    assert r.status_code == 400 and "loss_reason" in r.json()["errors"]
    opp.refresh_from_db()
    assert opp.stage == st["Proposal"]
    history = api.get(f"/api/v1/opportunities/{opp.pk}/stage-history/").json()
    assert [h["stage"] for h in history] == [st["Prospecting"].pk, st["Proposal"].pk]
    assert client_for("finance").post(url, {"stage": st["Won"].pk}, format="json").status_code == 403


def test_plain_update_cannot_change_stage(users: dict[str, Any], client_for: Any) -> None:
    opp = services.create_opportunity(actor=users["rep"], data={"name": "编辑测试"})
    r = client_for("rep").patch(f"/api/v1/opportunities/{opp.pk}/", {"stage": _stages()["Won"].pk}, format="json")
    assert r.status_code == 400
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_pipelines_read_for_reps_write_for_admins(users: dict[str, Any], client_for: Any) -> None:
    rows = client_for("rep").get("/api/v1/pipelines/").json()["results"]
    assert rows and rows[0]["stages"]
    assert (
        client_for("rep").post("/api/v1/pipelines/", {"name_en": "X", "name_zh": "X"}, format="json").status_code == 403
    )
    r = client_for("admin").post("/api/v1/pipelines/", {"name_en": "Renewal 2", "name_zh": "续约二"}, format="json")
    assert r.status_code == 201 and len(r.json()["stages"]) == 5

"""Opportunity services: defaults, stage moves with history, loss reasons, conflicts, permissions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.models import Event
from kehu.sales import services
from kehu.sales.models import Opportunity, Pipeline, Stage, StageHistory
from kehu.sales.services import pipelines as pipeline_services

pytestmark = pytest.mark.django_db


def _stages(code: str = "new_business") -> dict[str, Stage]:
    return {s.name_en: s for s in Stage.objects.filter(pipeline__code=code)}


@pytest.fixture
def deal(role_users: dict[str, Any], customer_factory: Any) -> Opportunity:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep)
    return services.create_opportunity(actor=rep, data={"name": "ERP 项目", "customer": customer, "amount": "10000"})


def test_create_uses_default_pipeline_first_stage_and_its_probability(deal: Opportunity) -> None:
    assert deal.pipeline.is_default
    assert deal.stage.name_en == "Prospecting"
    assert deal.probability == 10 and not deal.probability_overridden
    assert deal.status == "open" and deal.owner.username == "rep"
    assert StageHistory.objects.filter(opportunity=deal, left_at__isnull=True).count() == 1


def test_move_writes_history_and_event(deal: Opportunity, role_users: dict[str, Any]) -> None:
    st = _stages()
    services.move_stage(actor=role_users["rep"], opp=deal, stage=st["Proposal"], expected_version=deal.version)
    deal.refresh_from_db()
    assert deal.stage == st["Proposal"] and deal.probability == 50
    rows = list(StageHistory.objects.filter(opportunity=deal).order_by("entered_at", "id"))
    assert [r.stage.name_en for r in rows] == ["Prospecting", "Proposal"]
    assert rows[0].left_at is not None and rows[1].left_at is None and rows[1].entered_by == role_users["rep"]
    assert Event.objects.filter(verb="stage_changed", object_id=deal.pk).exists()


def test_lost_without_reason_changes_nothing(deal: Opportunity, role_users: dict[str, Any]) -> None:
    before = deal.version
    with pytest.raises(ValidationError) as exc:
        services.move_stage(actor=role_users["rep"], opp=deal, stage=_stages()["Lost"])
    assert "loss_reason" in exc.value.message_dict
    deal.refresh_from_db()
    assert deal.status == "open" and deal.version == before
    assert StageHistory.objects.filter(opportunity=deal).count() == 1


def test_lost_with_reason(deal: Opportunity, role_users: dict[str, Any]) -> None:
    services.move_stage(actor=role_users["rep"], opp=deal, stage=_stages()["Lost"], loss_reason="price", loss_note="x")
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.loss_reason == "price" and deal.probability == 0 and deal.closed_on


def test_stale_version_is_a_conflict_and_changes_nothing(deal: Opportunity, role_users: dict[str, Any]) -> None:
    st = _stages()
    seen = deal.version
    services.move_stage(actor=role_users["rep"], opp=deal, stage=st["Qualification"], expected_version=seen)
    with pytest.raises(services.StageConflict):
        services.move_stage(actor=role_users["manager"], opp=deal, stage=st["Negotiation"], expected_version=seen)
    deal.refresh_from_db()
    assert deal.stage == st["Qualification"]
    assert StageHistory.objects.filter(opportunity=deal).count() == 2


def test_move_without_permission_changes_nothing(deal: Opportunity, role_users: dict[str, Any]) -> None:
    for name in ("rep_south", "finance", "marketing"):
        with pytest.raises(PermissionDenied):
            services.move_stage(actor=role_users[name], opp=deal, stage=_stages()["Proposal"])
    deal.refresh_from_db()
    assert deal.stage.name_en == "Prospecting"


def test_probability_override_kept_across_open_stages(deal: Opportunity, role_users: dict[str, Any]) -> None:
    rep = role_users["rep"]
    services.update_opportunity(actor=rep, opp=deal, values={"probability": 35})
    deal.refresh_from_db()
    assert deal.probability_overridden
    services.move_stage(actor=rep, opp=deal, stage=_stages()["Proposal"])
    deal.refresh_from_db()
    assert deal.probability == 35
    services.update_opportunity(actor=rep, opp=deal, values={"probability": ""})
    deal.refresh_from_db()
    assert deal.probability == 50 and not deal.probability_overridden


def test_reopening_a_won_deal(deal: Opportunity, role_users: dict[str, Any]) -> None:
    rep = role_users["rep"]
    st = _stages()
    services.move_stage(actor=rep, opp=deal, stage=st["Won"])
    deal.refresh_from_db()
    assert deal.status == "won" and deal.probability == 100 and deal.closed_on
    services.move_stage(actor=rep, opp=deal, stage=st["Negotiation"])
    deal.refresh_from_db()
    assert deal.status == "open" and deal.closed_on is None and deal.probability == 75
    assert StageHistory.objects.filter(opportunity=deal, left_at__isnull=True).count() == 1


def test_plain_edit_cannot_move_stage(deal: Opportunity, role_users: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        services.update_opportunity(actor=role_users["rep"], opp=deal, values={"stage": _stages()["Won"]})


def test_lines_set_amount_from_price_list(deal: Opportunity, role_users: dict[str, Any]) -> None:
    from kehu.sales.models import PriceList, PriceListItem, Product

    product = Product.objects.create(name="CRM 授权", sku="CRM-1")
    PriceListItem.objects.create(price_list=PriceList.objects.get(is_default=True), product=product, price="1200")
    services.set_lines(
        actor=role_users["rep"], opp=deal, lines=[{"product": product.pk, "quantity": "2", "discount": "50"}]
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("1200.00")
    with pytest.raises(ValidationError):
        services.set_lines(actor=role_users["rep"], opp=deal, lines=[{"product": product.pk, "quantity": "-1"}])
    deal.refresh_from_db()
    assert deal.amount == Decimal("1200.00") and deal.lines.count() == 1


def test_stage_in_use_cannot_be_deleted(deal: Opportunity, role_users: dict[str, Any]) -> None:
    admin = role_users["admin"]
    stage = deal.stage
    with pytest.raises(ValidationError):
        pipeline_services.delete_stage(actor=admin, stage=stage)
    assert Stage.objects.filter(pk=stage.pk).exists()
    pipeline = pipeline_services.create_pipeline(actor=admin, data={"name_en": "Upsell", "name_zh": "增购"})
    spare = pipeline.stages.filter(kind="open").first()
    pipeline_services.delete_stage(actor=admin, stage=spare)
    assert not Stage.objects.filter(pk=spare.pk).exists()
    with pytest.raises(PermissionDenied):
        pipeline_services.update_pipeline(actor=role_users["rep"], pipeline=pipeline, values={"name_en": "X"})
    assert Pipeline.objects.get(pk=pipeline.pk).name_en == "Upsell"

"""The opportunity board in a real browser: drag a card to the next stage, see both columns' totals change,
then undo from the toast (the move is taken back, not repeated in reverse); at phone width the board scrolls
sideways inside itself, never the page."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.sales import services
from kehu.sales.models import Pipeline, Stage
from kehu.users.models import Role, RolePermission, Team, User
from kehu.users.roles import seed_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-pass-2024!"


def _setup() -> User:
    seed_roles(Role, RolePermission)  # a transactional test's flush removed what the migrations seeded
    team = Team.objects.create(name="华东区", path="/")
    Team.objects.filter(pk=team.pk).update(path=f"/{team.pk}/")
    rep = User.objects.create_user("xiaowang", password=PASSWORD, display_name="小王", team=team, language="en")
    rep.roles.add(Role.objects.get(code="sales_rep"))
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(code="nb", name_en="New business", name_zh="新客户", is_default=True, order=0)
    Pipeline.objects.exclude(pk=pipeline.pk).update(order=5)
    for i, (name, prob, kind) in enumerate(
        [("Prospecting", 10, "open"), ("Proposal", 50, "open"), ("Won", 100, "won"), ("Lost", 0, "lost")]
    ):
        Stage.objects.create(pipeline=pipeline, name_en=name, name_zh=name, order=i, probability=prob, kind=kind)
    rep = User.objects.get(pk=rep.pk)
    services.create_opportunity(actor=rep, data={"name": "Big deal", "amount": "12000"})
    services.create_opportunity(actor=rep, data={"name": "Small deal", "amount": "3000"})
    return rep


def test_drag_card_updates_totals_and_undo(live_server: Any, browser: Any) -> None:
    _setup()
    prospecting, proposal = Stage.objects.filter(pipeline__code="nb", kind="open").order_by("order")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "xiaowang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/opportunities/board/?pipeline={prospecting.pipeline_id}")
    src = page.locator(f'.board-col[data-column="{prospecting.pk}"]')
    dst = page.locator(f'.board-col[data-column="{proposal.pk}"]')
    assert src.locator("[data-count]").inner_text() == "2"
    assert src.locator("[data-totals]").inner_text().split() == ["15,000", "CNY", "·", "weighted", "1,500"]
    assert dst.locator("[data-count]").inner_text() == "0"

    card = src.locator(".deal-card", has_text="Big deal")
    card.drag_to(dst.locator("[data-cards]"))
    page.wait_for_selector("#board-toast:not([hidden])")
    page.wait_for_function(
        f"document.querySelector('.board-col[data-column=\"{proposal.pk}\"] [data-count]').textContent === '1'"
    )
    assert src.locator("[data-count]").inner_text() == "1"
    # the totals come back from the server per currency and are rebuilt in both columns
    assert src.locator("[data-totals]").inner_text().split() == ["3,000", "CNY", "·", "weighted", "300"]
    assert dst.locator("[data-totals]").inner_text().split() == ["12,000", "CNY", "·", "weighted", "6,000"]
    assert dst.locator(".deal-card", has_text="Big deal").count() == 1

    page.click("#board-toast [data-undo]")
    page.wait_for_function(
        f"document.querySelector('.board-col[data-column=\"{prospecting.pk}\"] [data-count]').textContent === '2'"
    )
    assert dst.locator("[data-count]").inner_text() == "0"
    assert dst.locator("[data-totals]").inner_text().strip() == ""
    assert src.locator(".deal-card", has_text="Big deal").count() == 1
    from kehu.sales.models import Opportunity, StageHistory

    big = Opportunity.objects.get(name="Big deal")
    assert big.stage_id == prospecting.pk
    # a real undo, not a move back: the history reads [Prospecting] again, and Proposal is not "reached"
    assert list(StageHistory.objects.filter(opportunity=big).values_list("stage_id", "left_at")) == [
        (prospecting.pk, None)
    ]
    assert big.max_stage_order == prospecting.order

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.evaluate("document.getElementById('board').scrollWidth > document.getElementById('board').clientWidth")
    assert not errors
    context.close()

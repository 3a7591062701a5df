"""A sales manager tags two customers of a list in one go, at desktop width (table rows, by mouse and by
keyboard) and at phone width (cards, each with its own box): only the two chosen customers get the tag."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.users.models import Role, RolePermission, Team, User
from kehu.users.roles import seed_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-pass-2024!"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SHOTS = os.environ.get("KEHU_SCREENSHOTS") or tempfile.mkdtemp(prefix="kehu-shots-")


@pytest.mark.parametrize("size", SIZES)
def test_manager_tags_two_chosen_customers(size: str, live_server: Any, browser: Any) -> None:
    seed_roles(Role, RolePermission)  # a transactional test's flush removed what the migrations seeded
    team = Team.objects.create(name="华东区", path="/")
    Team.objects.filter(pk=team.pk).update(path=f"/{team.pk}/")
    manager = User.objects.create_user("wangjl", password=PASSWORD, display_name="王经理", team=team, language="en")
    manager.roles.add(Role.objects.get(code="sales_manager"))
    for name in ("杭州未来科技", "宁波海港物流", "苏州新材料"):
        customer_services.create_customer(actor=manager, data={"name": name})

    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "wangjl")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/customers/?sort=name")
    bar = page.locator("#bulk-bar")
    assert bar.is_hidden()
    if size == "phone":
        assert page.locator("#cards").is_visible() and not page.locator(".list-table").is_visible()
        boxes = page.locator("#cards [data-card-for]")
    else:
        boxes = page.locator("#rows input[name=ids]")
    assert boxes.count() == 3
    names = list(Customer.objects.order_by("name_sort", "id").values_list("name", flat=True))  # as the list shows
    select_all = page.locator("[data-select-all]:visible")
    boxes.nth(0).check()
    if size == "desktop":  # by keyboard: j three times marks the third row, x ticks it
        for key in "jjjx":
            page.keyboard.press(key)
        assert page.locator("#rows tr.kbd-active input[name=ids]").get_attribute("value") == str(
            Customer.objects.get(name=names[2]).pk
        )
        assert boxes.nth(2).is_checked()
    else:
        boxes.nth(2).check()
    assert bar.is_visible() and bar.locator("[data-count]").inner_text() == "2"
    # the select-all box follows the choice, and unticking one keeps the count honest
    assert not select_all.is_checked()
    boxes.nth(1).check()
    assert select_all.is_checked() and bar.locator("[data-count]").inner_text() == "3"
    boxes.nth(1).uncheck()
    assert not select_all.is_checked() and bar.locator("[data-count]").inner_text() == "2"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    bar.locator("select[name=action]").select_option("tag")
    bar.locator("input[name=tag]").fill("重点")
    page.screenshot(path=os.path.join(SHOTS, f"bulk-{size}.png"), full_page=True)
    bar.locator("button:has-text('Apply')").click()
    page.wait_for_load_state()
    page.locator(".alert, .toast").first.wait_for()

    tagged = set(Customer.objects.filter(tags__name="重点").values_list("name", flat=True))
    assert tagged == {names[0], names[2]}
    if size == "desktop":  # j then Enter opens the first record
        page.goto(f"{live_server.url}/customers/?sort=name")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/customers/{Customer.objects.get(name=names[0]).pk}/")
        page.keyboard.press("?")  # the shortcuts window, on any page
        dialog = page.locator("#shortcuts")
        dialog.wait_for(state="visible")
        assert "j" in dialog.inner_text() and "Keyboard shortcuts" in dialog.inner_text()
        page.wait_for_function("document.activeElement.closest('#shortcuts') !== null")  # shown, focus moved in
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
    assert errors == []
    context.close()

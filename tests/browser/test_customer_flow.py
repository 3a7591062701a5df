"""A sales rep's first day, in a real browser at desktop and phone width: log in, create a customer, add a
contact from the customer's page, find it by pinyin in the global search and open the 360° page."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

from kehu.users.models import Role, RolePermission, Team, User
from kehu.users.roles import seed_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-pass-2024!"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SHOTS = os.environ.get("KEHU_SCREENSHOTS") or tempfile.mkdtemp(prefix="kehu-shots-")


def no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", SIZES)
def test_rep_creates_customer_and_contact_then_finds_it(size: str, live_server: Any, browser: Any) -> None:
    seed_roles(Role, RolePermission)  # a transactional test's flush removed what the migrations seeded
    team = Team.objects.create(name="华东区", path="/")
    Team.objects.filter(pk=team.pk).update(path=f"/{team.pk}/")
    rep = User.objects.create_user("xiaoli", password=PASSWORD, display_name="小李", team=team, language="zh-hans")
    rep.roles.add(Role.objects.get(code="sales_rep"))
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10000)
    phone = size == "phone"

    def open_menu() -> None:
        if phone:
            page.click("header.topbar button[data-bs-toggle='offcanvas']")
            page.wait_for_selector("#sidebar.show")

    # log in
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "xiaoli")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert no_horizontal_scroll(page)

    # create a customer through the menu
    open_menu()
    page.click("#sidebar a[href='/customers/']")
    page.wait_for_url("**/customers/")
    assert no_horizontal_scroll(page)
    page.click("a[href='/customers/new/']")
    page.fill("#id_name", "杭州未来科技有限公司")
    page.fill("#id_city", "杭州")
    page.click("form.form-k button.btn-primary")
    page.wait_for_url("**/customers/*/")
    assert page.locator("h1").inner_text() == "杭州未来科技有限公司"
    customer_url = page.url

    # add a contact from the customer's page
    page.click("a[href*='/contacts/new/?customer=']")
    page.wait_for_url("**/contacts/new/**")
    page.fill("#id_name", "张伟")
    page.select_option("select[name=ch-kind] >> nth=0", "email")
    page.fill("input[name=ch-value] >> nth=0", "zhangwei@weilai.example")
    page.click("#channels button.btn-outline-secondary")  # add another row
    page.select_option("select[name=ch-kind] >> nth=1", "phone")
    page.fill("input[name=ch-value] >> nth=1", "13800135678")
    page.click("form.form-k button.btn-primary")
    page.wait_for_url("**/contacts/*/")
    assert page.locator("h1").inner_text() == "张伟"
    contact_url = page.url
    assert page.get_by_text("zhangwei@weilai.example").count() >= 1

    # find it by pinyin in the global search box
    page.goto(f"{live_server.url}/")
    page.fill("#global-search", "zhangwei")
    hit = page.locator("#search-pop a.search-hit[href^='/contacts/']")
    hit.first.wait_for()
    assert "张伟" in hit.first.inner_text()
    hit.first.click()
    page.wait_for_url(contact_url)
    assert no_horizontal_scroll(page)

    # follow the link to its customer: the 360° page lists the contact and the timeline
    page.click("nav a[href^='/customers/'] >> nth=-1")
    page.wait_for_url(customer_url)
    contacts = page.locator(".list-group a[href^='/contacts/']")
    assert contacts.count() == 1 and "张伟" in contacts.first.inner_text()
    assert "zhangwei@weilai.example" in contacts.first.inner_text()
    assert page.locator("ul.timeline li").count() >= 2
    assert no_horizontal_scroll(page)
    page.screenshot(path=os.path.join(SHOTS, f"customer-360-{size}.png"), full_page=True)
    print(f"screenshot: {SHOTS}/customer-360-{size}.png")
    assert errors == []
    context.close()

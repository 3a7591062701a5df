"""A sales manager exports a filtered customer list in a real browser, at desktop and phone width: the Export
menu starts a job, the card under the toolbar follows it until it is done, and the downloaded CSV holds the
filtered rows.

On PostgreSQL a database-queue worker runs in a thread beside the live server, so the card is seen waiting and
then polling its way to done. The SQLite test database is an in-memory one shared between threads, whose table
locks fail at once instead of waiting, so there the job runs in the request (`KEHU_TASKS=immediate`)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kehu.customers import services as customer_services
from kehu.users.models import Role, RolePermission, Team, User
from kehu.users.roles import seed_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-pass-2024!"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SHOTS = os.environ.get("KEHU_SCREENSHOTS") or tempfile.mkdtemp(prefix="kehu-shots-")


@pytest.fixture
def worker(settings: Any, tmp_path: Any) -> Iterator[None]:
    """`kehu db_worker`'s loop in a thread of the test process, polling the live server's database."""
    from django.db import connection
    from django_tasks_db.management.commands.db_worker import Worker

    settings.MEDIA_ROOT = tmp_path
    if connection.vendor == "sqlite":
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
        yield
        return
    loop = Worker(
        queue_names=["default"],
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            loop.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    loop.running = False
    thread.join(timeout=10)


@pytest.mark.parametrize("size", SIZES)
def test_manager_exports_a_filtered_list(size: str, live_server: Any, browser: Any, worker: None) -> None:
    seed_roles(Role, RolePermission)  # a transactional test's flush removed what the migrations seeded
    team = Team.objects.create(name="华东区", path="/")
    Team.objects.filter(pk=team.pk).update(path=f"/{team.pk}/")
    manager = User.objects.create_user("wangjl", password=PASSWORD, display_name="王经理", team=team, language="en")
    manager.roles.add(Role.objects.get(code="sales_manager"))
    for name, stage in (("杭州未来科技", "retained"), ("宁波海港物流", "retained"), ("苏州新材料", "prospect")):
        customer_services.create_customer(actor=manager, data={"name": name, "lifecycle_stage": stage})

    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "wangjl")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/customers/?lifecycle_stage=retained")
    page.click("button:has-text('Export')")
    page.click("form.export-menu button[value=csv]")
    card = page.locator("#job-panel .job-card")
    card.wait_for()
    assert "Customers (CSV)" in card.inner_text()
    download_link = card.locator("a:has-text('Download')")
    download_link.wait_for()  # the card polled until the worker finished
    assert "2 rows" in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=os.path.join(SHOTS, f"export-{size}.png"), full_page=True)
    with page.expect_download() as info:
        download_link.click()
    path = info.value.path()
    body = open(path, encoding="utf-8-sig").read()  # noqa: SIM115, PTH123
    assert "杭州未来科技" in body and "宁波海港物流" in body and "苏州新材料" not in body
    assert info.value.suggested_filename.startswith("Customers-") and info.value.suggested_filename.endswith(".csv")

    page.goto(f"{live_server.url}/jobs/")
    assert page.locator("table.jobs-table tbody tr").count() == 1
    page.screenshot(path=os.path.join(SHOTS, f"jobs-{size}.png"), full_page=True)
    assert errors == []
    context.close()

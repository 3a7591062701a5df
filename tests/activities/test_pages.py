"""The follow-up panel, timeline cards, "My day", "My follow-ups", the task pages, home card and sidebar badge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.activities import services
from kehu.activities.models import Activity, Task
from kehu.core import queries as core_queries
from kehu.sales import services as sales_services
from kehu.users.models import User

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def log(actor: User, subject: str, **links: Any) -> Activity:
    return services.log_activity(
        actor=actor, data={"kind": "visit", "subject": subject, "outcome": "positive", **links}
    )


def count(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_follow_up_shows_on_every_record_it_touches(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    log(users["rep"], "现场拜访张总", contact=records["contact"], opportunity=records["opportunity"])
    client = login("rep")
    for url in (f"/customers/{records['customer'].pk}/", f"/contacts/{records['contact'].pk}/"):
        page = client.get(url).content.decode()
        assert "现场拜访张总" in page and "act-card" in page
    cards = [e for e in core_queries.timeline(users["rep"], records["opportunity"]) if e.template]
    assert [c.item.activity.subject for c in cards] == ["现场拜访张总"]


def test_timeline_hides_follow_ups_outside_the_users_scope(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    log(users["rep"], "机密沟通", customer=records["customer"])
    # the sales manager sees the rep's follow-ups; marketing sees the customer but only its own follow-ups
    assert "机密沟通" in login("manager").get(f"/customers/{records['customer'].pk}/").content.decode()
    page = login("marketing").get(f"/customers/{records['customer'].pk}/")
    assert page.status_code == 200 and "机密沟通" not in page.content.decode()


def test_timeline_merges_cards_and_events_newest_first(users: dict[str, User], records: dict[str, Any]) -> None:
    rep = users["rep"]
    services.log_activity(
        actor=rep,
        data={
            "subject": "上周电话",
            "customer": records["customer"],
            "occurred_at": timezone.now() - dt.timedelta(days=7),
        },
    )
    entries = core_queries.timeline(rep, records["customer"])
    times = [e.at for e in entries]
    assert times == sorted(times, reverse=True)
    assert entries[-1].template or entries[-1].event.verb == "created"
    assert any(e.template for e in entries[1:])  # the back-dated call sits below today's events


def test_log_follow_up_inline(users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]) -> None:
    client = login("rep")
    key = f"customers.customer:{records['customer'].pk}"
    response = client.post("/activities/log/", {"record": key, "kind": "call", "subject": ""}, **HX)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Activity.objects.exists()
    response = client.post(
        "/activities/log/",
        {
            "record": key,
            "kind": "call",
            "subject": "电话确认需求",
            "occurred_at": "2020-01-01T10:00",
            "next_follow_up": "2019-12-01",
        },
        **HX,
    )
    assert "The next follow-up cannot be before the follow-up itself." in response.content.decode()
    assert not Activity.objects.exists()
    response = client.post(
        "/activities/log/", {"record": key, "kind": "call", "subject": "电话确认需求", "outcome": "positive"}, **HX
    )
    assert response.status_code == 200 and "kehu:timeline" in response.get("HX-Trigger", ""), response.content.decode()
    assert Activity.objects.get().customer == records["customer"]


def test_cannot_log_on_a_hidden_record(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    client = login("rep_south")
    response = client.post(
        "/activities/log/", {"record": f"customers.customer:{records['customer'].pk}", "subject": "x"}, **HX
    )
    assert response.status_code == 404
    assert client.post("/activities/log/", {"record": "users.user:1", "subject": "x"}, **HX).status_code == 404
    assert not Activity.objects.exists()


def test_panel_new_task_and_one_click_complete(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    lead = records["lead"]
    manager = login("manager")
    page = manager.get(f"/leads/{lead.pk}/").content.decode()
    assert "Log follow-up" in page and 'name="owner"' in page  # a manager may assign
    assert 'name="owner"' not in login("rep").get(f"/leads/{lead.pk}/").content.decode()
    due = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = manager.post(
        "/tasks/new/",
        {
            "record": f"sales.lead:{lead.pk}",
            "title": "电话跟进李娜",
            "due_date": due,
            "priority": "high",
            "owner": users["rep"].pk,
        },
        **HX,
    )
    assert response.status_code == 200 and "kehu:tasks" in response["HX-Trigger"]
    task = Task.objects.get()
    assert (task.owner, task.assigned_by, task.lead) == (users["rep"], users["manager"], lead)
    rep = login("rep")
    assert "电话跟进李娜" in rep.get(f"/tasks/for-record/?record=sales.lead:{lead.pk}").content.decode()
    response = rep.post(f"/tasks/{task.pk}/complete/", **HX)
    assert "task-row done" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done"
    # a rep cannot assign to someone else, even by posting an owner
    response = rep.post("/tasks/new/", {"title": "代办", "priority": "normal", "owner": users["rep_sh"].pk}, **HX)
    assert not Task.objects.filter(owner=users["rep_sh"]).exists()


def test_my_day_buckets(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    today = timezone.localdate()

    def task(title: str, due: dt.date | None) -> Task:
        t = services.create_task(
            actor=rep, data={"title": title, "due_date": today + dt.timedelta(days=30) if due else None}
        )
        if due:
            services.update_task(actor=rep, task=t, values={"due_date": due})
        return t

    task("逾期", today - dt.timedelta(days=2))
    task("今天", today)
    task("三天后", today + dt.timedelta(days=3))
    task("十天后", today + dt.timedelta(days=10))
    task("无日期", None)
    done = task("已完成", today)
    services.complete_task(actor=rep, task=done)
    services.create_task(actor=users["manager"], data={"title": "同事的", "due_date": today}, owner=users["rep_sh"])
    day = login("rep").get("/tasks/").context["day"]
    titles = {b.key: [r.task.title for r in b.rows] for b in day.buckets}
    assert titles == {"overdue": ["逾期"], "today": ["今天"], "upcoming": ["三天后"], "no_date": ["无日期"]}
    assert day.buckets[0].rows[0].overdue
    team = login("east_manager").get("/tasks/", {"scope": "team"}).context["day"]
    assert "同事的" in [r.task.title for r in team.buckets[1].rows]
    rep_team = login("rep").get("/tasks/", {"scope": "team"}).context["team"]
    assert rep_team is False  # a rep has no team view


def test_home_card_and_sidebar_badge(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    services.create_task(actor=rep, data={"title": "今日回电", "due_date": timezone.localdate()})
    page = login("rep").get("/")
    assert "今日回电" in page.content.decode() and "My day" in page.content.decode()
    assert '<span class="nav-badge"' in page.content.decode()
    assert page.context["nav"]["tasks_due"]() == 1
    assert login("nobody").get("/").context["nav"]["tasks"] is False


def test_my_follow_ups_selection(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    today = timezone.localdate()
    bare = records["lead"]
    with_task = sales_services.create_lead(actor=rep, data={"name": "有任务"})
    services.create_task(actor=rep, data={"title": "打电话", "lead": with_task})
    planned = sales_services.create_lead(actor=rep, data={"name": "已约"})
    log(rep, "约了下周", lead=planned, next_follow_up=today + dt.timedelta(days=5))
    late = sales_services.create_lead(actor=rep, data={"name": "过期"})
    services.log_activity(
        actor=rep,
        data={
            "subject": "约了",
            "lead": late,
            "occurred_at": timezone.now() - dt.timedelta(days=9),
            "next_follow_up": today - dt.timedelta(days=2),
        },
    )
    disq = sales_services.create_lead(actor=rep, data={"name": "不合格"})
    sales_services.disqualify(actor=rep, lead=disq, reason="no_budget")
    opp = records["opportunity"]
    stepped = sales_services.create_opportunity(actor=rep, data={"name": "有下一步", "customer": records["customer"]})
    sales_services.update_opportunity(actor=rep, opp=stepped, values={"next_step": "演示"})
    client = login("rep")
    rows = client.get("/follow-ups/").context["rows"]
    leads = {r.obj.name: r for r in rows["leads"]}
    assert set(leads) == {bare.name, late.name}
    assert leads[late.name].overdue_since == today - dt.timedelta(days=2)
    assert rows["leads"][0].obj == late  # overdue first
    assert [r.obj for r in rows["opportunities"]] == [opp]
    # another rep's records are not "mine"
    assert login("rep_sh").get("/follow-ups/").context["total"] == 0
    # one-click form
    form = client.get("/activities/log/form/", {"record": f"sales.lead:{bare.pk}"}, **HX).content.decode()
    assert 'name="subject"' in form and 'name="compact"' in form


def test_task_list_and_task_page(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    task = services.create_task(
        actor=users["east_manager"], data={"title": "整理客户资料", "priority": "urgent"}, owner=rep
    )
    client = login("rep")
    listing = client.get("/tasks/all/", {"priority": "urgent", "status": "open"})
    assert listing.status_code == 200 and "整理客户资料" in listing.content.decode()
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    response = client.post(
        f"/tasks/{task.pk}/",
        {"title": "整理客户资料（新）", "priority": "normal", "status": "in_progress", "version": task.version},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.status) == ("整理客户资料（新）", "in_progress")
    assert login("rep_south").get(f"/tasks/{task.pk}/").status_code == 404
    assert "整理客户资料" not in login("rep_south").get("/tasks/all/").content.decode()


def test_pages_query_counts_do_not_grow(
    users: dict[str, User], records: dict[str, Any], login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    client = login("rep")

    def fill(n: int) -> None:
        for i in range(n):
            log(rep, f"拜访{i}", contact=records["contact"], opportunity=records["opportunity"])
            services.create_task(
                actor=rep, data={"title": f"任务{i}", "customer": records["customer"], "due_date": timezone.localdate()}
            )
            sales_services.create_lead(actor=rep, data={"name": f"线索{i}"})

    urls = [
        f"/customers/{records['customer'].pk}/",
        f"/contacts/{records['contact'].pk}/",
        "/tasks/",
        "/follow-ups/",
        "/",
    ]
    fill(2)
    few = [count(client, u) for u in urls]
    fill(12)
    assert [count(client, u) for u in urls] == few

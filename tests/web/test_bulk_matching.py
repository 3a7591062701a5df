"""Bulk actions on every record of a list, not only the rows on screen: "Select every record of this list" sends
the list's query; a background job applies the action batch by batch through the same service and permission
checks as a bulk action on chosen rows, and the list page shows its progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core.models import Event, Job
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.sales.models import Lead
from kehu.users.models import User
from tests.web.helpers import make_customer, make_lead, text

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def bulk_all(client: Client, capture: Any, url: str = "/customers/bulk/", **data: Any) -> Any:
    with capture(execute=True):
        return client.post(url, {"all_matching": "1", "next": url.replace("bulk/", ""), **data})


def test_tag_every_matching_record_in_batches(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(customer_services, "BULK_BATCH", 2)
    retained = [
        make_customer(users[u], f"Retained {u} {i}", lifecycle_stage="retained")
        for u in ("rep", "rep2")
        for i in range(3)
    ]
    prospect = make_customer(users["rep"], "Prospect", lifecycle_stage="prospect")
    outside = make_customer(users["admin"], "HQ retained", lifecycle_stage="retained")  # not the manager's
    client = login("manager")
    response = bulk_all(
        client, django_capture_on_commit_callbacks, query="lifecycle_stage=retained", action="tag", tag="续约重点"
    )
    job = Job.objects.get(kind=Job.Kind.BULK)
    assert response.status_code == 302 and response["Location"] == f"/customers/?job={job.pk}"
    page = text(client.get(response["Location"]))
    assert f'id="job-{job.pk}"' in page and "Add tag: Customers" in page  # the progress card on the list

    assert run_jobs() == 1
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (Job.Status.DONE, 6, 6)
    assert job.message == "6 changed, 0 already so, 0 skipped (not yours to change)"
    done_card = text(client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true"))
    assert 'href="/customers/"' in done_card and "Show the changed list" in done_card
    tagged = set(Customer.objects.filter(tags__name="续约重点").values_list("pk", flat=True))
    assert tagged == {c.pk for c in retained}
    assert prospect.pk not in tagged and outside.pk not in tagged
    assert Event.objects.filter(verb="tagged", object_id__in=[c.pk for c in retained]).count() == 6  # one each
    again = text(client.get(f"/customers/?job={job.pk}"))
    # only the language switch returns to this very page; pages, exports and the next bulk action leave the job
    assert again.count("job=") == 1


def test_stage_change_of_every_match_keeps_to_the_users_own_records(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    mine = [make_customer(users["rep"], f"Mine {i}") for i in range(3)]
    theirs = make_customer(users["rep2"], "Theirs")
    bulk_all(login("rep"), django_capture_on_commit_callbacks, query="", action="stage", stage="at_risk")
    run_jobs()
    assert set(Customer.objects.filter(lifecycle_stage="at_risk").values_list("pk", flat=True)) == {c.pk for c in mine}
    assert Customer.objects.get(pk=theirs.pk).lifecycle_stage == "prospect"


def test_assign_every_matching_lead(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    leads = [make_lead(users["rep"], f"展会线索 {i}") for i in range(4)]
    other = make_lead(users["rep"], "Web lead")
    bulk_all(
        login("manager"),
        django_capture_on_commit_callbacks,
        url="/leads/bulk/",
        query="q=展会",
        action="assign",
        owner=users["rep2"].pk,
    )
    run_jobs()
    assert set(Lead.objects.filter(owner=users["rep2"]).values_list("pk", flat=True)) == {lead.pk for lead in leads}
    assert Lead.objects.get(pk=other.pk).owner_id == users["rep"].pk


def test_refused_bulk_changes_start_nothing(
    users: dict[str, User], login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    make_customer(users["rep"], "Co")
    marketer = login("marketer")  # views and exports customers, may not change them
    refused = bulk_all(marketer, django_capture_on_commit_callbacks, query="", action="stage", stage="lost")
    assert messages_of(marketer.get(refused["Location"])) == ["You do not have permission to do this."]
    manager = login("manager")
    bad = bulk_all(manager, django_capture_on_commit_callbacks, query="nonsense=1", action="stage", stage="lost")
    assert messages_of(manager.get(bad["Location"])) == ["Cannot filter on “nonsense”."]
    no_action = bulk_all(manager, django_capture_on_commit_callbacks, query="")
    assert messages_of(manager.get(no_action["Location"])) == ["Choose an action."]
    assert not Job.objects.exists()
    assert not Customer.objects.exclude(lifecycle_stage="prospect").exists()


def test_the_offer_appears_only_when_the_list_has_more_pages(
    users: dict[str, User], login: Callable[[str], Client], monkeypatch: Any
) -> None:
    from kehu.customers.lists import CUSTOMER_LIST

    for i in range(3):
        make_customer(users["rep"], f"Co {i}")
    client = login("rep")
    assert "data-select-matching" not in text(client.get("/customers/"))  # one page: its rows are the list
    monkeypatch.setattr(CUSTOMER_LIST, "page_size", 2)
    assert "Select every record of this list" in text(client.get("/customers/"))

"""List exports: the Export menu of every list writes what the list shows — the rows the gate lets the user see,
the fields they may read, with the page's filters, search and order — to CSV or XLSX in a background job,
which the page follows until the file is ready. Jobs run through the database queue, by the worker's own loop."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kehu.core import jobs
from kehu.core.models import Job
from kehu.customers import services as customer_services
from kehu.users.models import RolePermission, User
from tests.web.helpers import make_contact, make_customer, make_lead, text

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def export(
    client: Client,
    capture: Any,
    object_type: str = "customers.customer",
    query: str = "",
    fmt: str = "csv",
    columns: str = "shown",
) -> Any:
    with capture(execute=True):
        return client.post(f"/exports/{object_type}/", {"query": query, "format": fmt, "columns": columns}, **HX)


def csv_rows(client: Client, job: Job) -> list[list[str]]:
    response = client.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_csv_holds_the_rows_columns_filters_and_order_of_the_list(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    make_customer(users["rep"], "Alpha Retained East", lifecycle_stage="retained", city="杭州")
    make_customer(users["rep2"], "Beta Retained North", lifecycle_stage="retained", city="北京")
    make_customer(users["rep"], "Gamma Prospect East", lifecycle_stage="prospect", city="上海")
    make_customer(users["admin"], "Delta Retained HQ", lifecycle_stage="retained", city="深圳")  # outside the team
    client = login("manager")
    page = client.get("/customers/", {"lifecycle_stage": "retained", "sort": "-name", "cols": "name,city,owner"})
    assert 'action="/exports/customers.customer/"' in text(page)  # the Export menu

    response = export(
        client, django_capture_on_commit_callbacks, query="lifecycle_stage=retained&sort=-name&cols=name,city,owner"
    )
    job = Job.objects.get()
    assert response.status_code == 200
    assert f'id="job-{job.pk}"' in text(response) and "every 1s" in text(response)  # the card polls until done
    assert job.status == Job.Status.QUEUED

    assert run_jobs() == 1
    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.message) == (Job.Status.DONE, 2, 2, "2 rows")
    rows = csv_rows(client, job)
    assert rows[0] == ["ID", "Name", "City", "Owner"]
    assert [r[1:] for r in rows[1:]] == [
        ["Beta Retained North", "北京", "Rep2"],
        ["Alpha Retained East", "杭州", "Rep"],
    ]
    card = client.get(f"/jobs/{job.pk}/", **HX)
    assert "every 1s" not in text(card) and f"/jobs/{job.pk}/download/" in text(card)  # done: stops polling
    assert job.file_name.startswith("Customers-") and job.file_name.endswith(".csv")


def test_hidden_fields_are_never_exported(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    rich = make_customer(users["admin"], "Rich Ltd")
    customer_services.update_customer(actor=users["finance"], customer=rich, values={"credit_limit": "90000.00"})
    marketer = login("marketer")  # may export customers; finance fields hidden
    export(marketer, django_capture_on_commit_callbacks, query="cols=name,credit_limit", columns="all")
    export(login("finance"), django_capture_on_commit_callbacks, query="", columns="all")
    run_jobs()
    mine, theirs = Job.objects.get(actor=users["marketer"]), Job.objects.get(actor=users["finance"])
    header = csv_rows(marketer, mine)[0]
    assert "Name" in header and "Lifecycle stage" in header
    assert not {"Credit limit", "Payment terms"} & set(header)
    finance_rows = csv_rows(login("finance"), theirs)
    assert "Credit limit" in finance_rows[0]
    assert finance_rows[1][finance_rows[0].index("Credit limit")] == "90000.00"


def test_roles_without_export_see_no_menu_and_are_refused(
    users: dict[str, User], login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    make_customer(users["rep"], "Own Co")
    client = login("rep")  # sales reps view, add and change their own records; no export
    assert 'action="/exports/customers.customer/"' not in text(client.get("/customers/"))
    response = export(client, django_capture_on_commit_callbacks)
    assert "You may not export this list." in text(response)
    plain = client.post("/exports/customers.customer/", {"format": "csv"})
    assert plain.status_code == 302
    assert not Job.objects.exists()


def test_bad_requests_are_named_and_start_nothing(
    users: dict[str, User], login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = login("manager")
    assert "Cannot filter on “credit_limitx”." in text(
        export(client, django_capture_on_commit_callbacks, query="credit_limitx=1")
    )
    assert "Choose CSV or XLSX." in text(export(client, django_capture_on_commit_callbacks, fmt="pdf"))
    assert "There is no list of “users.secret” to export." in text(
        export(client, django_capture_on_commit_callbacks, object_type="users.secret")
    )
    assert not Job.objects.exists()


def test_xlsx_keeps_numbers_and_dates_typed_and_defuses_formulas(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    evil = make_customer(users["admin"], '=HYPERLINK("http://evil.example/","Click")')
    customer_services.update_customer(actor=users["admin"], customer=evil, values={"credit_limit": "1234.50"})
    client = login("admin")
    export(client, django_capture_on_commit_callbacks, query="cols=name,credit_limit,created_at", fmt="xlsx")
    export(client, django_capture_on_commit_callbacks, query="cols=name", fmt="csv")
    run_jobs()
    xlsx_job, csv_job = Job.objects.order_by("id")
    body = b"".join(client.get(f"/jobs/{xlsx_job.pk}/download/").streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    header, row = [c.value for c in sheet[1]], sheet[2]
    assert header == ["ID", "Name", "Credit limit", "Created"]
    assert row[1].value == "'" + evil.name and row[1].data_type == "s"  # text, never a formula
    assert Decimal(str(row[2].value)) == Decimal("1234.50")  # a number the sheet can sum
    assert isinstance(row[3].value, dt.datetime)
    assert csv_rows(client, csv_job)[1][1] == "'" + evil.name


def test_contact_export_lists_every_channel(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    channels = [
        {"kind": "email", "value": "zhang.wei@example.cn", "is_primary": True},
        {"kind": "email", "value": "zw@example.com"},
        {"kind": "phone", "value": "13812345678"},
        {"kind": "wechat", "value": "zhangwei88"},
    ]
    make_contact(users["manager"], "张伟", channels=channels)
    client = login("manager")
    export(client, django_capture_on_commit_callbacks, object_type="customers.contact")
    run_jobs()
    rows = csv_rows(client, Job.objects.get())
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["E-mail addresses"] == "zhang.wei@example.cn; zw@example.com"
    assert record["Phone numbers"] == "138 1234 5678"
    assert record["Other channels"] == "WeChat: zhangwei88"


def test_export_reads_a_fixed_number_of_queries_however_many_rows(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
    django_assert_max_num_queries: Any,
) -> None:
    """No query per row: owners, tags and custom fields of the rows come with each batch."""

    def queries_for(n: int) -> int:
        Job.objects.all().delete()
        for i in range(n):
            make_lead(users["manager"], f"Lead {n}-{i}")
        export(login("manager"), django_capture_on_commit_callbacks, object_type="sales.lead", columns="all")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            run_jobs()
        assert Job.objects.get().status == Job.Status.DONE
        return len(ctx.captured_queries)

    assert queries_for(3) == queries_for(30)


def test_jobs_belong_to_their_starter_and_follow_the_export_right(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    make_customer(users["rep"], "East Co")
    client = login("manager")
    export(client, django_capture_on_commit_callbacks)
    run_jobs()
    job = Job.objects.get()
    other = login("admin")
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/download/").status_code == 404
    assert "East Co" not in text(other.get("/jobs/")) and "Customers (CSV)" not in text(other.get("/jobs/"))
    assert "Customers (CSV)" in text(client.get("/jobs/"))
    # the manager's role loses the export right: the file already made is no longer handed out
    grant = RolePermission.objects.get(role__code="sales_manager", object_type="customers.customer")
    grant.actions = [a for a in grant.actions if a != "export"]
    grant.save()
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_a_job_whose_starter_was_deactivated_fails_without_a_file(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    export(login("manager"), django_capture_on_commit_callbacks)
    User.objects.filter(pk=users["manager"].pk).update(is_active=False)
    run_jobs()
    job = Job.objects.get()
    assert (job.status, job.message, bool(job.file)) == (
        Job.Status.FAILED,
        "You no longer have permission to do this.",
        False,
    )


def test_xlsx_refuses_more_rows_than_a_sheet_holds(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
    monkeypatch: Any,
) -> None:
    from kehu.dataio import exports

    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    for i in range(3):
        make_customer(users["manager"], f"Co {i}")
    client = login("manager")
    export(client, django_capture_on_commit_callbacks, fmt="xlsx")
    run_jobs()
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.message == "Excel holds at most 2 rows and this list has 3. Export it as CSV or narrow the filters."
    assert job.message in text(client.get(f"/jobs/{job.pk}/"))


def test_exports_are_written_in_the_starters_language(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    make_customer(users["manager"], "上海示例", lifecycle_stage="retained")
    User.objects.filter(pk=users["manager"].pk).update(language="zh-hans")
    client = login("manager")
    client.cookies["django_language"] = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/exports/customers.customer/",
            {"query": "cols=name,lifecycle_stage", "format": "csv"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
            **HX,
        )
    run_jobs()
    job = Job.objects.get()
    assert job.language == "zh-hans"
    rows = csv_rows(client, job)
    assert rows[0] == ["ID", "名称", "生命周期阶段"]
    assert rows[1][1:] == ["上海示例", "留存客户"]
    assert job.file_name.startswith("客户-")


def test_old_files_are_deleted_and_the_page_says_so(users: dict[str, User], login: Callable[[str], Client]) -> None:
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        actor=users["manager"],
        title="Customers (CSV)",
        params={"object_type": "customers.customer"},
        status=Job.Status.DONE,
        finished_at=timezone.now() - dt.timedelta(days=8),
    )
    job.file.save("old.csv", ContentFile(b"ID\n1\n"))
    path = job.file.path
    assert jobs.prune() == 1
    job.refresh_from_db()
    assert not job.file and not __import__("os").path.exists(path)
    assert "File deleted" in text(login("manager").get("/jobs/"))
    assert login("manager").get(f"/jobs/{job.pk}/download/").status_code == 404


def test_at_most_three_exports_wait_per_person(
    users: dict[str, User], login: Callable[[str], Client], django_capture_on_commit_callbacks: Any
) -> None:
    client = login("manager")
    for _ in range(3):
        export(client, django_capture_on_commit_callbacks)
    refused = export(client, django_capture_on_commit_callbacks)
    assert "You already have 3 exports in progress; start another when one has finished." in text(refused)
    assert Job.objects.count() == 3
    export(login("marketer"), django_capture_on_commit_callbacks)  # counted per person
    assert Job.objects.count() == 4


def test_a_job_runs_once_and_an_abandoned_one_stops_counting_as_waiting(
    users: dict[str, User],
    login: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
    run_jobs: Callable[[], int],
) -> None:
    from kehu.dataio import exports

    client = login("manager")
    for _ in range(3):
        export(client, django_capture_on_commit_callbacks)
    first, *others = Job.objects.order_by("id")
    jobs.run(first.pk, exports.list_export)
    first.refresh_from_db()
    finished_at = first.finished_at
    jobs.run(first.pk, exports.list_export)  # the same task delivered again: nothing happens
    first.refresh_from_db()
    assert (first.status, first.finished_at) == (Job.Status.DONE, finished_at)
    # the worker of the other two stopped for good: after six hours they are failed, with a reason
    Job.objects.filter(pk__in=[j.pk for j in others]).update(created_at=timezone.now() - dt.timedelta(hours=7))
    jobs.prune()
    for job in Job.objects.filter(pk__in=[j.pk for j in others]):
        assert (job.status, job.message) == (Job.Status.FAILED, "No worker finished this job; start it again.")
    assert "Customers (CSV)" in text(export(client, django_capture_on_commit_callbacks))  # no longer 3 waiting

"""Background tasks of customers and contacts (and the lists that share their bulk actions): thin wrappers that
run a job through its service."""

from __future__ import annotations

from django_tasks import task

from kehu.core import jobs


@task()
def bulk_update_all(job_id: int) -> None:
    from kehu.customers import services  # the services start this task: imported when it runs

    jobs.run(job_id, services.bulk_all)

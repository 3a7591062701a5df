"""Background tasks of sales: thin wrappers that run a job through its service."""

from __future__ import annotations

from django_tasks import task

from kehu.core import jobs


@task()
def recount_reach(job_id: int) -> None:
    from kehu.sales.services import pipelines  # the services start this task: imported when it runs

    jobs.run(job_id, pipelines.recount_reach)

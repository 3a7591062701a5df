"""Background tasks of imports and exports: thin wrappers that run a job through its service."""

from __future__ import annotations

from django_tasks import task

from kehu.core import jobs
from kehu.dataio import exports


@task()
def export_list(job_id: int) -> None:
    jobs.run(job_id, exports.list_export)

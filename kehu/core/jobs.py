"""Background jobs: long work started from a page or the API, run by a worker, followed by the page.

`start` records a `Job` and enqueues its task once the starting transaction commits (a worker never sees a job
that was rolled back). The task — a thin function in an app's `tasks.py` — calls `run(job_id, handler)`, which
marks the job running, switches to the language of the person who started it, hands the handler a `Progress`
and records the outcome: done (with a file, if the handler wrote one) or failed, with a message the person can
read. The backend that carries the task (database, Redis/RQ, or at once) is configuration (`KEHU_TASKS`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core import permissions, registry
from kehu.core.models import Job

log = logging.getLogger("kehu.jobs")

# how often a running job writes its progress (seconds): often enough for a progress bar, rarely enough to
# cost nothing next to the work
PROGRESS_EVERY = 0.5
# a job not finished this long after it was asked for lost its worker (stopped or crashed): it is marked failed,
# so it no longer counts as waiting and its page says what happened
ABANDONED_AFTER = dt.timedelta(hours=6)


class Progress:
    """Counts the handler's work and writes it to the job row now and then."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._written = 0.0

    def total(self, n: int | None) -> None:
        self.job.total = n
        Job.objects.filter(pk=self.job.pk).update(total=n)

    def advance(self, n: int = 1) -> None:
        self.job.done += n
        now = time.monotonic()
        if now - self._written >= PROGRESS_EVERY:
            self._written = now
            Job.objects.filter(pk=self.job.pk).update(done=self.job.done)


Handler = Callable[[Job, Progress], "Outcome | None"]


@dataclass(kw_only=True)
class Outcome:
    """What a handler hands back: a file to offer for download and/or a message to show."""

    file: File | None = None
    file_name: str = ""
    message: str = ""


def start(*, actor: Any, kind: str, title: str, params: dict[str, Any], task: Any) -> Job:
    """Record a job for `actor` and enqueue `task(job_id)` when the current transaction commits."""
    job = Job.objects.create(
        kind=kind,
        actor=actor,
        title=title[:200],
        params=params,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    transaction.on_commit(lambda: task.enqueue(job.pk))
    return job


def run(job_id: int, handler: Handler) -> None:
    """Run one job: called by its task in the worker. Only a waiting job is claimed, in one UPDATE, so a task
    delivered twice runs once; an error becomes the job's message instead of a silent stop."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    job = Job.objects.select_related("actor").get(pk=job_id)
    progress = Progress(job)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            outcome = handler(job, progress) or Outcome()
        except (ValidationError, PermissionDenied) as exc:
            _finish(job, Job.Status.FAILED, _message(exc))
            return
        except Exception:
            log.exception("job %s (%s) failed", job.pk, job.kind)
            _finish(job, Job.Status.FAILED, _("Something went wrong while doing this; nothing was changed. Try again."))
            raise
    if outcome.file is not None:
        job.file_name = outcome.file_name
        job.file.save(outcome.file_name, outcome.file, save=False)
        job.file_size = job.file.size
    _finish(job, Job.Status.DONE, outcome.message)
    prune()


def _message(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return _("You no longer have permission to do this.")
    return "; ".join(exc.messages)  # type: ignore[attr-defined]


def _finish(job: Job, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message[:500], timezone.now()
    job.save(update_fields=["status", "message", "finished_at", "done", "total", "file", "file_name", "file_size"])


def prune(now: dt.datetime | None = None) -> int:
    """Delete the files of jobs older than KEHU_JOB_FILES_DAYS, and the jobs themselves after a year, and mark
    jobs abandoned by their worker failed; run after each job, so no scheduler is needed. Returns how many files
    were removed."""
    now = now or timezone.now()
    for job in Job.objects.filter(finished_at__isnull=True, created_at__lt=now - ABANDONED_AFTER)[:200]:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            message = _("No worker finished this job; start it again.")
        Job.objects.filter(pk=job.pk, finished_at__isnull=True).update(
            status=Job.Status.FAILED, message=message, finished_at=now
        )
    removed = 0
    old = Job.objects.filter(finished_at__lt=now - dt.timedelta(days=settings.KEHU_JOB_FILES_DAYS)).exclude(file="")
    for job in old[:200]:
        job.file.delete(save=False)
        job.file_size = 0
        job.save(update_fields=["file", "file_size"])
        removed += 1
    Job.objects.filter(created_at__lt=now - dt.timedelta(days=365)).delete()
    return removed


def visible(user: Any) -> Any:
    """The jobs a user may follow: their own."""
    return Job.objects.filter(actor=user)


def downloadable(user: Any, pk: int) -> Job:
    """A finished job's file, for the person who started it while they may still export that list; Http404
    otherwise (someone else's job, a file already deleted, an export right since withdrawn)."""
    job = visible(user).filter(pk=pk, status=Job.Status.DONE).exclude(file="").first()
    if job is None:
        raise Http404
    object_type = job.params.get("object_type")
    if job.kind == Job.Kind.EXPORT and not permissions.can(user, registry.get(object_type).model, "export"):
        raise Http404
    return job

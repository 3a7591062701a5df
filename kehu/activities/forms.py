"""Forms of the follow-up panel, the task pages and their filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.models import Activity, Task
from kehu.core.forms import GatedModelForm


class ActivityForm(GatedModelForm):
    object_type = "activities.activity"

    class Meta:
        model = Activity
        fields = [
            "kind",
            "subject",
            "body",
            "occurred_at",
            "duration_minutes",
            "outcome",
            "next_step",
            "next_follow_up",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "body": forms.Textarea(attrs={"rows": 3}),
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "next_follow_up": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "occurred_at" in self.fields:
            occurred_at = self.fields["occurred_at"]
            assert isinstance(occurred_at, forms.DateTimeField)
            occurred_at.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
            occurred_at.required = False  # empty: now
            if not self.instance.pk and not self.is_bound:
                self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)
        if "outcome" in self.fields:
            outcome = self.fields["outcome"]
            assert isinstance(outcome, forms.ChoiceField)
            outcome.choices = [("", "—"), *Activity.Outcome.choices]
        if "kind" in self.fields:
            self.fields["kind"].widget.attrs.pop("class", None)
        for name, hint in (
            ("subject", _("e.g. Called about the renewal price")),
            ("next_step", _("e.g. Send the quote")),
        ):
            if name in self.fields:
                self.fields[name].widget.attrs["placeholder"] = hint


class TaskForm(GatedModelForm):
    object_type = "activities.task"
    owner = forms.TypedChoiceField(label=_("Assign to"), coerce=int, required=False)

    class Meta:
        model = Task
        fields = ["title", "due_date", "priority", "description"]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, assignees: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assignees = {u.pk: u for u in assignees or []}
        if len(self.assignees) > 1:
            owner = self.fields["owner"]
            assert isinstance(owner, forms.ChoiceField)
            owner.choices = [(u.pk, str(u)) for u in self.assignees.values()]
            owner.initial = self.instance.owner_id if self.instance.pk else self.user.pk
            owner.widget.attrs["class"] = "form-select"
        else:
            del self.fields["owner"]

    def chosen_owner(self) -> Any:
        pk = self.cleaned_data.get("owner") if "owner" in self.fields else None
        return self.assignees.get(pk) if pk else None


class TaskEditForm(TaskForm):
    class Meta(TaskForm.Meta):
        fields = ["title", "due_date", "priority", "status", "description"]

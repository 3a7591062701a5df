from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import GatedModelForm, picklist_choices
from kehu.sales.models import Lead


class LeadForm(GatedModelForm):
    object_type = "sales.lead"
    picklist_fields = ("industry", "source")

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "title",
            "email",
            "phone",
            "wechat",
            "source",
            "campaign",
            "industry",
            "country",
            "province",
            "city",
            "description",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "province": forms.TextInput(attrs={"list": "provinces"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            # the service normalises and validates; the form only passes the text through
            self.fields["email"] = forms.CharField(
                label=self.fields["email"].label,
                required=False,
                max_length=254,
                widget=forms.EmailInput(attrs={"class": "form-control"}),
            )


class DisqualifyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = picklist_choices("disqualify_reason")  # type: ignore[attr-defined]

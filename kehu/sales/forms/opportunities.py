"""Forms of opportunities (商机): create/edit, the loss dialog, contact roles and line items."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import GatedModelForm, LookupWidget, picklist_choices
from kehu.customers.models import Customer
from kehu.sales.models import Opportunity, Pipeline, Stage


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.pipeline.name} · {obj.name}"


class OpportunityForm(GatedModelForm):
    """Pipeline and stage are chosen here only when the deal is created; afterwards the stage moves through
    the stage path (services.move_stage)."""

    object_type = "sales.opportunity"
    picklist_fields = ("source",)
    competitors = forms.CharField(
        label=_("Competitors"), required=False, max_length=800, help_text=_("Separate names with commas.")
    )
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to use the stage's default."),
    )

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "customer",
            "pipeline",
            "stage",
            "amount",
            "currency",
            "probability",
            "expected_close",
            "source",
            "campaign",
            "partner",
            "competitors",
            "next_step",
            "description",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "expected_close": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        editing = bool(self.instance.pk)
        if editing:
            for name in ("pipeline", "stage"):
                self.fields.pop(name, None)
        else:
            if "pipeline" in self.fields:
                self.fields["pipeline"].queryset = Pipeline.objects.filter(active=True)  # type: ignore[attr-defined]
                self.fields["pipeline"].required = False
                self.fields["pipeline"].empty_label = _("Default pipeline")  # type: ignore[attr-defined]
            if "stage" in self.fields:
                stage_field = StageChoiceField(
                    queryset=Stage.objects.filter(active=True, pipeline__active=True).select_related("pipeline"),
                    required=False,
                    label=self.fields["stage"].label,
                    empty_label=_("First stage"),
                    help_text=_("Leave empty to start in the pipeline's first stage."),
                )
                stage_field.widget.attrs["class"] = "form-select"
                self.fields["stage"] = stage_field
        if "customer" in self.fields and customers is not None:
            field = self.fields["customer"]
            field.queryset = customers  # type: ignore[attr-defined]
            field.widget = LookupWidget(reverse_lazy("customers:lookup"))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
        if "partner" in self.fields:
            base = customers if customers is not None else Customer.objects.all()
            self.fields["partner"].queryset = base.filter(  # type: ignore[attr-defined]
                relationship=Customer.Relationship.PARTNER
            )
        if "competitors" in self.fields and editing:
            self.fields["competitors"].initial = ", ".join(self.instance.competitors or [])
        if "probability" in self.fields:
            self.fields["probability"].widget.attrs.setdefault("class", "form-control")
            if editing and not self.instance.probability_overridden:
                self.initial["probability"] = None
        if "currency" in self.fields:
            self.fields["currency"].widget.attrs.update({"maxlength": 3, "style": "text-transform: uppercase"})

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "CNY").upper()

    def clean_competitors(self) -> str:
        return (self.cleaned_data.get("competitors") or "").replace("，", ",")

    def model_values(self) -> dict[str, Any]:
        values = super().model_values()
        if self.instance.pk and "probability" in values and values["probability"] is None:
            values["probability"] = ""  # back to the stage's default
        if not self.instance.pk:
            for name in ("pipeline", "stage"):
                if values.get(name) is None:
                    values.pop(name, None)
        return values


class LossForm(forms.Form):
    loss_reason = forms.ChoiceField(label=_("Loss reason"))
    loss_note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].choices = picklist_choices("loss_reason")  # type: ignore[attr-defined]

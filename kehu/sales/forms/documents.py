"""Forms of the catalogue (products, price lists) and of quotes, contracts and payments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import GatedModelForm, LookupWidget
from kehu.sales.models import Contract, Payment, PriceList, Product, Quote

DATE = {"type": "date"}


def _date(attrs: dict[str, Any] | None = None) -> forms.DateInput:
    return forms.DateInput(attrs={**DATE, **(attrs or {})}, format="%Y-%m-%d")


class ProductForm(GatedModelForm):
    object_type = "sales.product"

    class Meta:
        model = Product
        fields = ["name", "sku", "series", "unit", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self) -> None:
        """The service answers a taken SKU (case-insensitively) with its own message."""


class PriceListForm(GatedModelForm):
    object_type = "sales.pricelist"

    class Meta:
        model = PriceList
        fields = ["name", "currency", "is_default", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            self.fields["currency"].widget.attrs.update({"maxlength": 3, "style": "text-transform: uppercase"})


class QuoteForm(GatedModelForm):
    """The quote's header; its lines are edited beside it (rows of product, description, quantity, price,
    discount) and go to the service together."""

    object_type = "sales.quote"

    class Meta:
        model = Quote
        fields = ["title", "customer", "contact", "opportunity", "price_list", "valid_until", "language", "tax_rate"]
        fields += ["terms"]
        widgets = {"valid_until": _date(), "terms": forms.Textarea(attrs={"rows": 3})}

    def __init__(
        self, *args: Any, customers: Any = None, contacts: Any = None, opportunities: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if "customer" in self.fields and customers is not None:
            field = self.fields["customer"]
            field.queryset = customers  # type: ignore[attr-defined]
            field.widget = LookupWidget(reverse_lazy("customers:lookup"))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
        if "contact" in self.fields and contacts is not None:
            self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
        if "opportunity" in self.fields and opportunities is not None:
            self.fields["opportunity"].queryset = opportunities  # type: ignore[attr-defined]
        if "price_list" in self.fields:
            self.fields["price_list"].queryset = PriceList.objects.filter(active=True)  # type: ignore[attr-defined]
        for name in ("title", "price_list", "customer"):
            if name in self.fields:
                self.fields[name].required = False  # the service fills or names what is missing
        if "tax_rate" in self.fields:
            self.fields["tax_rate"].required = False


class ContractForm(GatedModelForm):
    object_type = "sales.contract"

    class Meta:
        model = Contract
        fields = ["title", "kind", "customer", "status", "start_date", "end_date", "renewal_date", "signed_on"]
        fields += ["value", "currency", "terms"]
        widgets = {
            "start_date": _date(),
            "end_date": _date(),
            "renewal_date": _date(),
            "signed_on": _date(),
            "terms": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "customer" in self.fields and customers is not None:
            field = self.fields["customer"]
            field.queryset = customers  # type: ignore[attr-defined]
            field.widget = LookupWidget(reverse_lazy("customers:lookup"))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
        for name in ("title", "value", "currency", "customer"):
            if name in self.fields:
                self.fields[name].required = False
        if "currency" in self.fields:
            self.fields["currency"].widget.attrs.update({"maxlength": 3, "style": "text-transform: uppercase"})

    def _post_clean(self) -> None:
        """Dates and kinds are checked by the service, which names the field; the model's own checks would
        answer with a generic constraint message first."""


class PaymentForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(Payment.Status.PLANNED, _("Planned")), (Payment.Status.RECEIVED, _("Received"))],
        widget=forms.RadioSelect,
        initial=Payment.Status.PLANNED,
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=_date())
    received_on = forms.DateField(label=_("Received on"), required=False, widget=_date())
    method = forms.ChoiceField(label=_("Method"), choices=[("", "—"), *Payment.Method.choices], required=False)
    reference = forms.CharField(label=_("Reference"), max_length=80, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            if name != "status":
                f.widget.attrs.setdefault("class", "form-select" if name == "method" else "form-control")
        self.fields["amount"].widget.attrs["inputmode"] = "decimal"


class ReceiveForm(forms.Form):
    received_on = forms.DateField(label=_("Received on"), required=False, widget=_date())
    amount = forms.DecimalField(label=_("Amount received"), max_digits=14, decimal_places=2, required=False)
    method = forms.ChoiceField(label=_("Method"), choices=[("", "—"), *Payment.Method.choices], required=False)
    reference = forms.CharField(label=_("Reference"), max_length=80, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        for name, f in self.fields.items():
            f.widget.attrs.setdefault("class", "form-select" if name == "method" else "form-control")


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

"""Forms of the administrators' settings pages: they parse input; the services validate and save."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core import customfields, normalize
from kehu.core.models import CustomFieldDefinition, PicklistOption
from kehu.users.models import Role, Team, User

LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates only include core/_field.html."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.HiddenInput):
                continue
            if isinstance(w, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            w.attrs.setdefault("class", css)


class TeamChoiceField(forms.ModelChoiceField):
    """Teams in tree order, indented by depth."""

    def label_from_instance(self, obj: Any) -> str:
        return "\u2003" * obj.depth + obj.name


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


def _set_queryset(form: forms.Form, name: str, qs: Any) -> None:
    cast(forms.ModelChoiceField, form.fields[name]).queryset = qs


def _teams() -> Any:
    return Team.objects.order_by("path")


def _active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("name_sort", "id")


# --------------------------------------------------------------------------- users


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    team = TeamChoiceField(label=_("Team"), queryset=_teams(), required=False, empty_label=_("All teams"))
    role = forms.ModelChoiceField(
        label=_("Role"), queryset=Role.objects.all(), required=False, empty_label=_("All roles")
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "team", _teams())
        _set_queryset(self, "role", Role.objects.all())
        for name, f in self.fields.items():
            f.widget.attrs["class"] = "form-control form-control-sm" if name == "q" else "form-select form-select-sm"
        self.fields["q"].widget.attrs["placeholder"] = _("Name, user name or e-mail")


class UserForm(StyledForm):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Used to sign in. Letters, digits and @ . + - _ only."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    team = TeamChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team"))
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES, initial="zh-hans")
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Give it to the user; they can change it on their profile page."),
    )

    def __init__(self, *args: Any, with_password: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "team", _teams())
        _set_queryset(self, "roles", Role.objects.all())
        if not with_password:
            del self.fields["password"]

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "").strip()
        return normalize.phone(value) if value else ""

    def clean(self) -> dict[str, Any]:
        """Report every problem at once (the service checks the same again when it saves)."""
        data = super().clean() or {}
        username = data.get("username", "")
        taken = User.objects.filter(username__iexact=username)
        if self.initial.get("username"):
            taken = taken.exclude(username=self.initial["username"])
        if username and taken.exists():
            self.add_error("username", _("A user with that user name already exists."))
        if "password" in self.fields and data.get("password"):
            probe = User(username=username, email=data.get("email", ""), display_name=data.get("display_name", ""))
            try:
                validate_password(data["password"], probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data

    def values(self) -> dict[str, Any]:
        """The model fields for the service (roles and password are passed apart)."""
        keys = ("username", "display_name", "email", "phone", "team", "language")
        return {k: self.cleaned_data[k] for k in keys}


class PasswordResetForm(StyledForm):
    password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


# --------------------------------------------------------------------------- teams


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = TeamChoiceField(
        label=_("Parent team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("None (a top-level team)"),
    )
    lead = UserChoiceField(label=_("Team lead"), queryset=User.objects.none(), required=False, empty_label=_("No lead"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_queryset(self, "parent", _teams())
        _set_queryset(self, "lead", _active_users())


# --------------------------------------------------------------------------- roles


class RoleForm(StyledForm):
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("A short key such as key_account_manager; it cannot change later.")
    )
    name_en = forms.CharField(label=_("Name (English)"), max_length=80)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=80)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args: Any, fixed_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fixed_code:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""
        # A seed description is stored in English and shown in the reader's language (roles.py); the field
        # shows it translated, and saving it unchanged keeps the stored English so every language still sees its own.
        self.stored_description = self.initial.get("description") or ""
        if self.stored_description:
            self.initial["description"] = gettext(self.stored_description)

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        if self.stored_description and text == gettext(self.stored_description):
            return self.stored_description
        return text

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if not self.fields["code"].disabled and Role.objects.filter(code=code).exists():
            raise ValidationError(_("A role with the code “%(code)s” already exists.") % {"code": code})
        return code


# --------------------------------------------------------------------------- custom fields


def parse_choices(text: str) -> list[dict[str, str]]:
    """Lines of "value | English | 中文" → [{"value", "label_en", "label_zh"}]; labels default to the value."""
    out: list[dict[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3 or not parts[0]:
            raise ValidationError(
                _("Line %(n)d: write “value | English | 中文” (the labels may be left out).") % {"n": n}
            )
        value = parts[0]
        label_en = parts[1] if len(parts) > 1 and parts[1] else value
        label_zh = parts[2] if len(parts) > 2 and parts[2] else label_en
        if len(value) > 40 or len(label_en) > 80 or len(label_zh) > 80:
            raise ValidationError(
                _("Line %(n)d: a value may have at most 40 characters, a label at most 80.") % {"n": n}
            )
        out.append({"value": value, "label_en": label_en, "label_zh": label_zh})
    return out


def format_choices(choices: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c.get('value', '')} | {c.get('label_en', '')} | {c.get('label_zh', '')}" for c in choices)


class CustomFieldForm(StyledForm):
    object_type = forms.ChoiceField(label=_("Object"), choices=[])
    name = forms.RegexField(
        label=_("Key"),
        max_length=40,
        regex=r"^[a-z][a-z0-9_]*$",
        error_messages={"invalid": _("Start with a letter; use lower-case letters, digits and underscores.")},
        help_text=_("Used by the API, imports and filters (as cf_<key>). It cannot change later."),
    )
    label_en = forms.CharField(label=_("Label (English)"), max_length=80)
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=80)
    type = forms.ChoiceField(
        label=_("Type"), choices=CustomFieldDefinition.Type.choices, help_text=_("It cannot change later.")
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=200, required=False)
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0, help_text=_("Smaller numbers come first."))
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "vip | VIP | 贵宾\nnormal | Normal | 普通"}),
        help_text=_("For single and multiple choice: one per line, as “value | English | 中文”."),
    )

    def __init__(self, *args: Any, instance: CustomFieldDefinition | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs["initial"] = {
                **(kwargs.get("initial") or {}),
                "object_type": instance.object_type,
                "name": instance.name,
                "label_en": instance.label_en,
                "label_zh": instance.label_zh,
                "type": instance.type,
                "required": instance.required,
                "help_text": instance.help_text,
                "order": instance.order,
                "choices": format_choices(instance.choices),
            }
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [
            (key, capfirst(label)) for key, label in customfields.object_types()
        ]
        if instance is not None:
            for name in ("object_type", "name", "type"):
                self.fields[name].disabled = True
                self.fields[name].help_text = ""

    def clean_choices(self) -> list[dict[str, str]]:
        return parse_choices(self.cleaned_data.get("choices", ""))

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("type") not in (CustomFieldDefinition.Type.CHOICE, CustomFieldDefinition.Type.MULTICHOICE):
            data["choices"] = []
        return data


# --------------------------------------------------------------------------- pick lists


class PicklistOptionForm(StyledForm):
    value = forms.RegexField(
        label=_("Value"),
        max_length=40,
        regex=r"^[-a-zA-Z0-9_]+$",
        error_messages={"invalid": _("Use letters, digits, hyphens and underscores.")},
        help_text=_("Stored on records and used by the API. It cannot change later."),
    )
    label_en = forms.CharField(label=_("Label (English)"), max_length=80)
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=80)
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0, help_text=_("Smaller numbers come first."))

    def __init__(self, *args: Any, instance: PicklistOption | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs["initial"] = {
                **(kwargs.get("initial") or {}),
                "value": instance.value,
                "label_en": instance.label_en,
                "label_zh": instance.label_zh,
                "order": instance.order,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["value"].disabled = True
            self.fields["value"].help_text = ""


# --------------------------------------------------------------------------- role matrix

ACTION_LABELS = {
    "view": _("View"),
    "add": _("Add"),
    "change": _("Change"),
    "delete": _("Delete"),
    "export": _("Export"),
    "assign": _("Assign"),
}
SCOPE_LABELS = {"own": _("Own records"), "team": _("Team and sub-teams"), "all": _("All records")}
RULE_LABELS = {"": _("Visible"), "readonly": _("Read-only"), "hidden": _("Hidden")}


def field_label(model: Any, name: str) -> str:
    """A field's human name, for the field-rule editor (reverse relations use the related model's name)."""
    try:
        f: Any = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a name the registry lists but the model lacks: show it as is
        return name
    label = getattr(f, "verbose_name", None) or f.related_model._meta.verbose_name_plural
    return capfirst(str(label))


class RoleMatrix:
    """The grants of one role as a matrix (object types × actions, scope, field rules), read from a POST.

    Inputs: `act:<type>` (checkboxes, one per action), `scope:<type>` (select), `rule:<type>:<field>` (radios:
    "" visible, "readonly", "hidden").
    """

    def __init__(self, data: Any = None, role: Role | None = None) -> None:
        from kehu.core import permissions, registry

        self.data = data
        self.errors: dict[str, str] = {}
        current = {p.object_type: p for p in role.permissions.all()} if role is not None and role.pk else {}
        self.rows: list[dict[str, Any]] = []
        for ot in sorted(registry.all_types(), key=lambda t: not t.owned):  # records first, then settings
            grant = current.get(ot.key)
            fields = [(n, field_label(ot.model, n)) for n in ot.fields]
            if ot.custom_fields:
                fields += [(d.field_key, d.label) for d in customfields.definitions(ot.key)]
            if data is not None:
                actions = [a for a in data.getlist(f"act:{ot.key}") if a in permissions.ACTIONS]
                scope = data.get(f"scope:{ot.key}", "own") if ot.owned else "all"
                rules = {n: data.get(f"rule:{ot.key}:{n}", "") for n, _label in fields}
            else:
                actions = list(grant.actions) if grant else []
                scope = grant.scope if grant else ("own" if ot.owned else "all")
                rules = dict(grant.field_rules) if grant else {}
            rules = {n: r for n, r in rules.items() if r in (permissions.HIDDEN, permissions.READONLY)}
            if scope not in permissions.SCOPES:
                self.errors[ot.key] = str(_("Choose a data scope."))
            elif actions and "view" not in actions:
                self.errors[ot.key] = str(_("Every other action needs “View” as well."))
            self.rows.append(
                {
                    "key": ot.key,
                    "label": ot.label_plural.capitalize(),
                    "owned": ot.owned,
                    "actions": [(a, ACTION_LABELS[a], a in actions) for a in permissions.ACTIONS],
                    "granted": bool(actions),
                    "scope": scope,
                    "fields": [(n, label, rules.get(n, "")) for n, label in fields],
                    "rules": rules,
                    "restricted": len(rules),
                    "error": self.errors.get(ot.key, ""),
                }
            )
        self.action_labels = [ACTION_LABELS[a] for a in permissions.ACTIONS]
        self.scopes = list(SCOPE_LABELS.items())
        self.rule_choices = list(RULE_LABELS.items())

    def is_valid(self) -> bool:
        return self.data is not None and not self.errors

    @property
    def grants(self) -> dict[str, tuple[list[str], str, dict[str, str]]]:
        return {
            row["key"]: ([a for a, _label, on in row["actions"] if on], row["scope"], row["rules"])
            for row in self.rows
            if row["granted"]
        }

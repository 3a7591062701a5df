"""Kehu's own settings pages for administrators: users, teams, roles, custom fields and pick lists.

Thin views: each checks the gate (a 404 for anyone who may not manage the object type), parses a form,
calls a service and shows the service's ValidationError next to the fields it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, ProtectedError, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kehu.core import customfields, pagination, permissions
from kehu.core.forms import apply_errors
from kehu.core.models import CustomFieldDefinition, PicklistOption
from kehu.users import services
from kehu.users.models import Role, Team, User
from kehu.users.settings_forms import (
    CustomFieldForm,
    PasswordResetForm,
    PicklistOptionForm,
    RoleForm,
    RoleMatrix,
    TeamForm,
    UserFilterForm,
    UserForm,
)

USER, TEAM, ROLE = "users.user", "users.team", "users.role"
FIELD, OPTION = "core.customfielddefinition", "core.picklistoption"
PAGE_SIZE = 50


def require_admin(request: HttpRequest, object_type: str = USER, action: str = "change") -> None:
    if not permissions.can(request.user, object_type, action):
        raise Http404


def _denied(request: HttpRequest) -> None:
    messages.error(request, _("You do not have permission to do this."))


def _delete_on_post(
    request: HttpRequest, delete: Callable[[], None], done: str, to: str, protected: str = ""
) -> HttpResponse | None:
    """The POST of a delete confirmation page: run `delete`, then go to `to` with the `done` message. A refusal
    (the service's reason, records still pointing at it, no permission) is shown and the page renders again."""
    if request.method != "POST":
        return None
    try:
        delete()
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return None
    except ProtectedError:
        messages.error(request, protected or _("Other records still refer to this one."))
        return None
    except PermissionDenied:
        _denied(request)
        return None
    messages.success(request, done)
    return redirect(to)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    user = request.user
    sections = []

    def add(obj_type: str, url: str, icon: str, title: str, text: str, count: int, count_label: str) -> None:
        if permissions.can(user, obj_type, "change"):
            sections.append(
                {"url": url, "icon": icon, "title": title, "text": text, "count": count, "count_label": count_label}
            )

    add(
        USER,
        "users:settings_users",
        "bi-people",
        _("Users"),
        _("Accounts, their team and roles; passwords; deactivation."),
        permissions.visible(User, user, "change").filter(is_active=True).count(),
        _("active users"),
    )
    add(
        TEAM,
        "users:settings_teams",
        "bi-diagram-3",
        _("Teams"),
        _("Departments in a tree, e.g. Sales → East China, with their leads."),
        permissions.visible(Team, user, "change").count(),
        _("teams"),
    )
    add(
        ROLE,
        "users:settings_roles",
        "bi-shield-lock",
        _("Roles"),
        _("What each role may see and do: actions, data scope and field rules."),
        permissions.visible(Role, user, "change").count(),
        _("roles"),
    )
    add(
        FIELD,
        "users:settings_fields",
        "bi-ui-checks",
        _("Custom fields"),
        _("Extra fields on customers, contacts and leads."),
        permissions.visible(CustomFieldDefinition, user, "change").count(),
        _("fields"),
    )
    add(
        OPTION,
        "users:settings_picklists",
        "bi-list-ul",
        _("Pick lists"),
        _("Industries, source channels and disqualification reasons."),
        permissions.visible(PicklistOption, user, "change").filter(active=True).count(),
        _("active options"),
    )
    from django.apps import apps

    add(
        "sales.pipeline",
        "sales:pipeline_list",
        "bi-kanban",
        _("Pipelines"),
        _("Sales processes and their stages, with default probabilities."),
        apps.get_model("sales", "Pipeline").objects.filter(active=True).count(),
        _("active pipelines"),
    )
    add(
        "sales.product",
        "sales:product_list",
        "bi-box-seam",
        _("Products"),
        _("What you sell: name, SKU, product line and unit."),
        apps.get_model("sales", "Product").objects.filter(active=True).count(),
        _("active products"),
    )
    add(
        "sales.pricelist",
        "sales:pricelist_list",
        "bi-tags",
        _("Price lists"),
        _("Prices per product in one currency; quotes take their prices from a list."),
        apps.get_model("sales", "PriceList").objects.filter(active=True).count(),
        _("active price lists"),
    )
    return render(
        request,
        "users/settings/index.html",
        {"sections": sections, "can_add_user": permissions.can(user, USER, "add")},
    )


# --------------------------------------------------------------------------- users


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require_admin(request, USER, "change")
    filters = UserFilterForm(request.GET or None)
    qs = permissions.visible(User, request.user, "change").select_related("team").prefetch_related("roles")
    if filters.is_valid():
        data = filters.cleaned_data
        q = data.get("q", "").strip()
        if q:
            qs = qs.filter(
                Q(display_name__icontains=q)
                | Q(username__icontains=q)
                | Q(email__icontains=q)
                | Q(first_name__icontains=q)
                | Q(last_name__icontains=q)
            )
        if data.get("team"):
            qs = qs.filter(team__path__startswith=data["team"].path)
        if data.get("role"):
            qs = qs.filter(roles=data["role"])
        if data.get("active") in ("0", "1"):
            qs = qs.filter(is_active=data["active"] == "1")
    try:
        page = pagination.paginate(qs, ["username"], request.GET.get("cursor"), PAGE_SIZE)
    except ValidationError:
        page = pagination.paginate(qs, ["username"], None, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("cursor", None)
    filtered = any(v for k, v in request.GET.items() if k != "cursor")
    return render(
        request,
        "users/settings/user_list.html",
        {
            "filters": filters,
            "users": page.items,
            "next_cursor": page.next_cursor,
            "query": query.urlencode(),
            "filtered": filtered,
            "can_add": permissions.can(request.user, USER, "add"),
        },
    )


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    require_admin(request, USER, "add")
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_user(
                actor=request.user,
                data=form.values(),
                password=form.cleaned_data["password"],
                roles=list(form.cleaned_data["roles"]),
            )
            messages.success(request, _("User %(user)s created.") % {"user": user})
            return redirect("users:settings_users")
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            _denied(request)
    return render(request, "users/settings/user_form.html", {"form": form, "obj": None})


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, USER, "change")
    obj = permissions.get_or_404(User.objects.select_related("team"), request.user, pk, "change")
    initial = {
        "username": obj.username,
        "display_name": obj.display_name,
        "email": obj.email,
        "phone": obj.phone,
        "team": obj.team,
        "roles": list(obj.roles.all()),
        "language": obj.language,
    }
    form = UserForm(request.POST or None, initial=initial, with_password=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(
                actor=request.user, user=obj, values=form.values(), roles=list(form.cleaned_data["roles"])
            )
            messages.success(request, _("User %(user)s saved.") % {"user": obj})
            return redirect("users:settings_users")
        except ValidationError as exc:
            apply_errors(form, exc)
            obj.refresh_from_db()
        except PermissionDenied:
            _denied(request)
    return render(request, "users/settings/user_form.html", {"form": form, "obj": obj})


@login_required
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, USER, "change")
    obj = permissions.get_or_404(User, request.user, pk, "change")
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(actor=request.user, user=obj, password=form.cleaned_data["password"])
            if obj.pk == request.user.pk:
                update_session_auth_hash(request, obj)
            messages.success(
                request, _("Password of %(user)s changed; they are signed out everywhere.") % {"user": obj}
            )
            return redirect("users:settings_user_edit", obj.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            _denied(request)
    return render(request, "users/settings/user_password.html", {"form": form, "obj": obj})


@login_required
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate or reactivate: a confirmation page (GET), then the change (POST)."""
    require_admin(request, USER, "change")
    obj = permissions.get_or_404(User, request.user, pk, "change")
    activate = not obj.is_active
    if request.method == "POST":
        try:
            if not activate and obj.pk == request.user.pk:
                raise ValidationError(_("You cannot deactivate your own account."))
            services.update_user(actor=request.user, user=obj, values={"is_active": activate})
            if activate:
                messages.success(request, _("%(user)s can sign in again.") % {"user": obj})
            else:
                messages.success(
                    request,
                    _("%(user)s is deactivated; their sessions and API tokens stopped working.") % {"user": obj},
                )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        except PermissionDenied:
            _denied(request)
        return redirect("users:settings_user_edit", obj.pk)
    return render(request, "users/settings/user_active.html", {"obj": obj, "activate": activate})


# --------------------------------------------------------------------------- teams


def _tree(teams: list[Team]) -> list[Team]:
    """Teams depth-first, siblings by name."""
    children: dict[int | None, list[Team]] = {}
    ids = {t.pk for t in teams}
    for t in teams:
        children.setdefault(t.parent_id if t.parent_id in ids else None, []).append(t)
    out: list[Team] = []

    def walk(parent: int | None) -> None:
        for t in sorted(children.get(parent, []), key=lambda t: t.name.lower()):
            out.append(t)
            walk(t.pk)

    walk(None)
    return out


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    require_admin(request, TEAM, "change")
    teams = list(
        permissions.visible(Team, request.user, "change")
        .select_related("lead")
        .annotate(
            n_members=Count("members", filter=Q(members__is_active=True), distinct=True),
            n_children=Count("children", distinct=True),
        )
    )
    return render(
        request,
        "users/settings/team_list.html",
        {"teams": _tree(teams), "can_add": permissions.can(request.user, TEAM, "add")},
    )


def _save_team(request: HttpRequest, team: Team | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if team is not None:
        initial = {"name": team.name, "parent": team.parent, "lead": team.lead}
    elif request.GET.get("parent", "").isdigit():
        initial = {"parent": Team.objects.filter(pk=request.GET["parent"]).first()}
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if team is None:
                team = services.create_team(
                    actor=request.user, name=data["name"], parent=data["parent"], lead=data["lead"]
                )
                messages.success(request, _("Team %(team)s created.") % {"team": team})
            else:
                services.update_team(
                    actor=request.user, team=team, name=data["name"], parent=data["parent"], lead=data["lead"]
                )
                messages.success(request, _("Team %(team)s saved.") % {"team": team})
            return redirect("users:settings_teams")
        except ValidationError as exc:
            apply_errors(form, exc)
            if team is not None and team.pk:
                team.refresh_from_db()
        except PermissionDenied:
            _denied(request)
    members = list(team.members.filter(is_active=True).order_by("name_sort", "id")) if team else []
    return render(request, "users/settings/team_form.html", {"form": form, "obj": team, "members": members})


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    require_admin(request, TEAM, "add")
    return _save_team(request, None)


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, TEAM, "change")
    return _save_team(request, permissions.get_or_404(Team.objects.select_related("parent", "lead"), request.user, pk))


@login_required
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, TEAM, "delete")
    team = permissions.get_or_404(Team, request.user, pk, "delete")
    done = _delete_on_post(
        request,
        lambda: services.delete_team(actor=request.user, team=team),
        _("Team %(team)s deleted.") % {"team": team},
        "users:settings_teams",
        protected=_(
            "Customers, contacts or leads still belong to this team. Reassign them first; then delete the team."
        ),
    )
    if done:
        return done
    return render(
        request,
        "users/settings/team_delete.html",
        {"obj": team, "n_members": team.members.count(), "n_children": team.children.count()},
    )


# --------------------------------------------------------------------------- roles


@login_required
def role_list(request: HttpRequest) -> HttpResponse:
    require_admin(request, ROLE, "change")
    roles = (
        permissions.visible(Role, request.user, "change")
        .annotate(
            n_users=Count("users", filter=Q(users__is_active=True), distinct=True),
            n_types=Count("permissions", distinct=True),
        )
        .order_by("id")
    )
    return render(
        request,
        "users/settings/role_list.html",
        {"roles": roles, "can_add": permissions.can(request.user, ROLE, "add")},
    )


def _save_role(request: HttpRequest, role: Role | None) -> HttpResponse:
    initial = {}
    if role is not None:
        initial = {"code": role.code, "name_en": role.name_en, "name_zh": role.name_zh, "description": role.description}
    post = request.POST if request.method == "POST" else None
    form = RoleForm(post, initial=initial, fixed_code=role is not None)
    matrix = RoleMatrix(post, role)
    if post is not None:
        form_ok = form.is_valid()
        if form_ok and matrix.is_valid():
            data = {k: form.cleaned_data[k] for k in ("name_en", "name_zh", "description")}
            if role is None:
                data["code"] = form.cleaned_data["code"]
            try:
                role = services.save_role(actor=request.user, role=role, data=data, grants=matrix.grants)
                messages.success(request, _("Role %(role)s saved.") % {"role": role})
                return redirect("users:settings_roles")
            except ValidationError as exc:
                apply_errors(form, exc)
            except PermissionDenied:
                _denied(request)
        if matrix.errors:
            form.add_error(None, _("Check the rows marked below."))
    can_delete = role is not None and permissions.can(request.user, ROLE, "delete")
    return render(
        request,
        "users/settings/role_form.html",
        {"form": form, "matrix": matrix, "obj": role, "can_delete": can_delete},
    )


@login_required
def role_create(request: HttpRequest) -> HttpResponse:
    require_admin(request, ROLE, "add")
    return _save_role(request, None)


@login_required
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, ROLE, "change")
    return _save_role(request, permissions.get_or_404(Role, request.user, pk, "change"))


@login_required
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, ROLE, "delete")
    role = permissions.get_or_404(Role, request.user, pk, "delete")
    done = _delete_on_post(
        request,
        lambda: services.delete_role(actor=request.user, role=role),
        _("Role %(role)s deleted.") % {"role": role},
        "users:settings_roles",
    )
    if done:
        return done
    holders = list(role.users.order_by("username")[:20])
    return render(
        request, "users/settings/role_delete.html", {"obj": role, "holders": holders, "n_holders": role.users.count()}
    )


# --------------------------------------------------------------------------- custom fields


@login_required
def field_list(request: HttpRequest) -> HttpResponse:
    require_admin(request, FIELD, "change")
    defs = list(permissions.visible(CustomFieldDefinition, request.user, "change"))
    groups = [(key, label, [d for d in defs if d.object_type == key]) for key, label in customfields.object_types()]
    return render(
        request,
        "users/settings/field_list.html",
        {"groups": groups, "total": len(defs), "can_add": permissions.can(request.user, FIELD, "add")},
    )


def _save_field(request: HttpRequest, defn: CustomFieldDefinition | None) -> HttpResponse:
    initial = {}
    if defn is None and request.GET.get("object_type") in dict(customfields.object_types()):
        initial = {"object_type": request.GET["object_type"]}
    form = CustomFieldForm(request.POST or None, instance=defn, initial=initial or None)
    if request.method == "POST" and form.is_valid():
        try:
            defn = customfields.save_definition(actor=request.user, defn=defn, data=form.values())
            messages.success(request, _("Custom field %(field)s saved.") % {"field": defn})
            return redirect("users:settings_fields")
        except ValidationError as exc:
            apply_errors(form, exc)
            if defn is not None and defn.pk:
                defn.refresh_from_db()
        except PermissionDenied:
            _denied(request)
    return render(request, "users/settings/field_form.html", {"form": form, "obj": defn})


@login_required
def field_create(request: HttpRequest) -> HttpResponse:
    require_admin(request, FIELD, "add")
    return _save_field(request, None)


@login_required
def field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, FIELD, "change")
    return _save_field(request, permissions.get_or_404(CustomFieldDefinition, request.user, pk, "change"))


@login_required
def field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, FIELD, "delete")
    defn = permissions.get_or_404(CustomFieldDefinition, request.user, pk, "delete")
    done = _delete_on_post(
        request,
        lambda: customfields.delete_definition(actor=request.user, defn=defn),
        _("Custom field %(field)s deleted.") % {"field": defn},
        "users:settings_fields",
    )
    if done:
        return done
    types = dict(customfields.object_types())
    return render(
        request, "users/settings/field_delete.html", {"obj": defn, "object_label": types.get(defn.object_type, "")}
    )


# --------------------------------------------------------------------------- pick lists


@login_required
def picklist_list(request: HttpRequest) -> HttpResponse:
    require_admin(request, OPTION, "change")
    options = list(permissions.visible(PicklistOption, request.user, "change"))
    lists = [(key, label, [o for o in options if o.list == key]) for key, label in PicklistOption.List.choices]
    return render(
        request,
        "users/settings/picklist_list.html",
        {"lists": lists, "can_add": permissions.can(request.user, OPTION, "add")},
    )


def _save_option(request: HttpRequest, list_key: str, option: PicklistOption | None) -> HttpResponse:
    form = PicklistOptionForm(request.POST or None, instance=option)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("label_en", "label_zh", "order")}
        if option is None:
            data.update({"list": list_key, "value": form.cleaned_data["value"]})
        try:
            option = customfields.save_option(actor=request.user, option=option, data=data)
            messages.success(request, _("Option %(option)s saved.") % {"option": option})
            return redirect("users:settings_picklists")
        except ValidationError as exc:
            apply_errors(form, exc)
            if option is not None and option.pk:
                option.refresh_from_db()
        except PermissionDenied:
            _denied(request)
    return render(
        request,
        "users/settings/picklist_form.html",
        {"form": form, "obj": option, "list_label": dict(PicklistOption.List.choices)[list_key]},
    )


@login_required
def picklist_create(request: HttpRequest, list_key: str) -> HttpResponse:
    require_admin(request, OPTION, "add")
    if list_key not in PicklistOption.List.values:
        raise Http404
    return _save_option(request, list_key, None)


@login_required
def picklist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, OPTION, "change")
    option = permissions.get_or_404(PicklistOption, request.user, pk, "change")
    return _save_option(request, option.list, option)


@login_required
def picklist_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request, OPTION, "change")
    option = permissions.get_or_404(PicklistOption, request.user, pk, "change")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        customfields.save_option(actor=request.user, option=option, data={"active": not option.active})
        if option.active:
            messages.success(request, _("%(option)s can be chosen again.") % {"option": option})
        else:
            messages.success(
                request,
                _("%(option)s is deactivated: records keep it, new ones cannot choose it.") % {"option": option},
            )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        _denied(request)
    return redirect("users:settings_picklists")

"""Every write to users, teams, roles and API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.users.models import ApiToken, Role, RolePermission, Team, User


def _set_path(team: Team) -> None:
    team.path = (team.parent.path if team.parent else "/") + f"{team.pk}/"


def _unique_among_siblings(name: str, parent: Team | None, team: Team | None = None) -> None:
    siblings = Team.objects.filter(parent=parent, name__iexact=name.strip())
    if team is not None:
        siblings = siblings.exclude(pk=team.pk)
    if siblings.exists():
        message = (
            _("There is already a team named “%(name)s” under “%(parent)s”.") % {"name": name.strip(), "parent": parent}
            if parent is not None
            else _("There is already a top-level team named “%(name)s”.") % {"name": name.strip()}
        )
        raise ValidationError({"name": [message]})


@transaction.atomic
def create_team(*, actor: Any, name: str, parent: Team | None = None, lead: User | None = None) -> Team:
    _unique_among_siblings(name, parent)
    team = Team(name=name.strip(), parent=parent, lead=lead, path="/")
    core.create(actor=actor, obj=team)
    _set_path(team)
    Team.objects.filter(pk=team.pk).update(path=team.path)
    return team


@transaction.atomic
def update_team(*, actor: Any, team: Team, name: str, parent: Team | None, lead: User | None) -> dict[str, Any]:
    if parent is not None and parent.path.startswith(team.path):
        raise ValidationError({"parent": [_("A team cannot sit under itself or one of its sub-teams.")]})
    _unique_among_siblings(name, parent, team)
    old_path = team.path
    changes = core.update(actor=actor, obj=team, values={"name": name.strip(), "parent": parent, "lead": lead})
    if "parent" in changes:
        _set_path(team)
        for t in Team.objects.filter(path__startswith=old_path).order_by("path"):
            t.path = team.path + t.path[len(old_path) :]
            t.save(update_fields=["path"])
    return changes


@transaction.atomic
def delete_team(*, actor: Any, team: Team) -> None:
    if team.children.exists() or team.members.exists():
        raise ValidationError({"__all__": [_("Move this team's members and sub-teams elsewhere first.")]})
    core.delete(actor=actor, obj=team)


@transaction.atomic
def create_user(*, actor: Any, data: dict[str, Any], password: str, roles: list[Role]) -> User:
    user = User(**data)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    if User.objects.filter(username__iexact=data.get("username", "")).exists():
        raise ValidationError({"username": [_("A user with that user name already exists.")]})
    user.set_password(password)
    core.create(actor=actor, obj=user, m2m={"roles": roles}, exclude_validation=["password"])
    return user


@transaction.atomic
def update_user(*, actor: Any, user: User, values: dict[str, Any], roles: list[Role] | None = None) -> dict[str, Any]:
    was_active = user.is_active
    changes = core.update(actor=actor, obj=user, values=values, m2m={"roles": roles} if roles is not None else None)
    _keep_an_administrator()
    if was_active and not user.is_active:
        _end_sessions(user)
        revoked = _revoke_tokens(user)
        events.record(actor=actor, obj=user, verb="deactivated", data={"tokens_revoked": revoked} if revoked else None)
    permissions.forget(user)
    return changes


def _keep_an_administrator() -> None:
    """Refuse a change that would leave no active user able to manage roles (nobody could undo it)."""
    holders = RolePermission.objects.filter(object_type="users.role").values_list("role_id", "actions")
    admin_roles = [rid for rid, actions in holders if "change" in actions]
    if (
        not User.objects.filter(is_active=True)
        .filter(models.Q(is_superuser=True) | models.Q(roles__in=admin_roles))
        .exists()
    ):
        raise ValidationError({"__all__": [_("This change would leave nobody able to manage roles.")]})


def _end_sessions(user: User) -> None:
    """Sessions of a deactivated user are deleted (they would be refused anyway: inactive users do not load)."""
    for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(s.get_decoded().get("_auth_user_id")) == str(user.pk):
            s.delete()


def _revoke_tokens(user: User) -> list[str]:
    """Delete every API token of a deactivated user (reactivating them does not bring one back); returns the
    prefixes of the deleted tokens for the event."""
    tokens = list(ApiToken.objects.filter(user=user).order_by("pk"))
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    return [t.prefix for t in tokens]


@transaction.atomic
def set_password(*, actor: Any, user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    if actor.pk != user.pk:
        core.require(actor, User, "change")
    user.set_password(password)
    user.save(update_fields=["password"])
    events.record(actor=actor, obj=user, verb="updated", changes={"password": ["•", "•"]})


@transaction.atomic
def set_language(*, user: User, language: str) -> None:
    if language not in ("zh-hans", "en"):
        raise ValidationError({"language": [_("Choose 简体中文 or English.")]})
    if user.language != language:
        old = user.language
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        events.record(actor=user, obj=user, verb="updated", changes={"language": [old, language]})


@transaction.atomic
def create_token(*, user: User, name: str = "") -> str:
    """A new API token for `user`; the returned string is the only time the token is visible."""
    if not user.is_active:
        raise ValidationError({"username": [_("This user is deactivated.")]})
    raw = "kehu_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:80], prefix=raw[5:11], digest=ApiToken.hash(raw))
    events.record(actor=user, obj=user, verb="token_created", data={"token": token.prefix})
    return raw


@transaction.atomic
def revoke_token(*, actor: Any, token: ApiToken) -> None:
    if token.user_id != actor.pk:
        core.require(actor, User, "change")
    events.record(actor=actor, obj=token.user, verb="token_revoked", data={"token": token.prefix})
    token.delete()


@transaction.atomic
def delete_role(*, actor: Any, role: Role) -> None:
    """Delete a role nobody holds any more (its grants go with it; its history stays in the event log)."""
    holders = role.users.count()
    if holders:
        raise ValidationError(
            {
                "__all__": [
                    ngettext(
                        "%(n)d user still holds this role. Give them another role first; then delete it.",
                        "%(n)d users still hold this role. Give them another role first; then delete it.",
                        holders,
                    )
                    % {"n": holders}
                ]
            }
        )
    core.delete(actor=actor, obj=role)
    _keep_an_administrator()


@transaction.atomic
def save_role(
    *, actor: Any, role: Role | None, data: dict[str, Any], grants: dict[str, tuple[list[str], str, dict[str, str]]]
) -> Role:
    """Create or change a role and replace its grants: {object type: (actions, scope, field rules)}."""
    if role is None:
        role = Role(**data)
        core.create(actor=actor, obj=role)
    else:
        core.update(actor=actor, obj=role, values=data)
    before = {p.object_type: [sorted(p.actions), p.scope, p.field_rules] for p in role.permissions.all()}
    role.permissions.all().delete()
    for object_type, (actions, scope, rules) in grants.items():
        if actions:
            RolePermission.objects.create(
                role=role, object_type=object_type, actions=sorted(set(actions)), scope=scope, field_rules=rules
            )
    after = {p.object_type: [sorted(p.actions), p.scope, p.field_rules] for p in role.permissions.all()}
    _keep_an_administrator()
    changes = events.diff(before, after)
    if changes:
        events.record(actor=actor, obj=role, verb="updated", changes=changes)
    return role

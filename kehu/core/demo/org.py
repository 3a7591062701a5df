"""The demo company's people: teams as a tree, users with their seed roles, the demo logins, tags and custom
field definitions. Idempotent: everything is looked up by its natural key first and only what is missing
is created.

Teams, tags and custom field definitions go through their services (with the demo administrator as the
actor). Users are created directly, because the user service requires a password that passes the
validators and the demo logins share one short password on purpose; each still gets its `created` event.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core import customfields, events
from kehu.core.demo import names as N
from kehu.core.demo.people import cn_mobile, make_person
from kehu.core.models import CustomFieldDefinition
from kehu.customers import services as customer_services
from kehu.customers.models import Tag
from kehu.users import services as user_services
from kehu.users.models import Role, Team, User

DEMO_PASSWORD = "kehu-demo"  # noqa: S105 - the documented password of the demo logins
EMAIL_DOMAIN = "kehu-demo.example"

# key, name, parent key — 总经办 is the root, the other eight departments hang below it.
TEAMS: list[tuple[str, str, str | None]] = [
    ("hq", "总经办", None),
    ("sales", "销售部", "hq"),
    ("east", "华东区", "sales"),
    ("south", "华南区", "sales"),
    ("north", "华北区", "sales"),
    ("intl", "海外销售 International", "sales"),
    ("marketing", "市场部", "hq"),
    ("service", "客户服务部", "hq"),
    ("finance", "财务部", "hq"),
]
SALES_REGIONS = ("east", "south", "north", "intl")

# The demo logins: username, display name, team, role, language.
LOGINS: list[tuple[str, str, str, str, str]] = [
    ("admin", "管理员 Admin", "hq", "administrator", "zh-hans"),
    ("manager", "李娜 Nina Li", "east", "sales_manager", "zh-hans"),
    ("rep", "张伟", "east", "sales_rep", "zh-hans"),
    ("rep2", "陈静 Grace", "south", "sales_rep", "zh-hans"),
    ("agent", "刘洋", "service", "service_agent", "zh-hans"),
    ("marketer", "Emily Zhao 赵敏", "marketing", "marketing", "en"),
    ("finance", "孙丽", "finance", "finance", "zh-hans"),
]

# Further staff, in the order they are added until the requested head count is reached: managers first so
# every region has one even in a small demo.
STAFF: list[tuple[str, str]] = [
    ("south", "sales_manager"),
    ("north", "sales_manager"),
    ("intl", "sales_manager"),
    ("north", "sales_rep"),
    ("intl", "sales_rep"),
    ("sales", "sales_manager"),
    ("east", "sales_rep"),
    ("south", "sales_rep"),
    ("hq", "administrator"),
    ("east", "sales_rep"),
    ("service", "service_agent"),
    ("marketing", "marketing"),
    ("north", "sales_rep"),
    ("intl", "sales_rep"),
    ("east", "sales_rep"),
    ("south", "sales_rep"),
    ("service", "service_agent"),
    ("finance", "finance"),
    ("east", "sales_rep"),
    ("north", "sales_rep"),
    ("south", "sales_rep"),
    ("intl", "sales_rep"),
    ("service", "service_agent"),
    ("marketing", "marketing"),
    ("east", "sales_rep"),
    ("south", "sales_rep"),
    ("north", "sales_rep"),
    ("east", "sales_rep"),
    ("service", "service_agent"),
    ("hq", "sales_manager"),
    ("intl", "sales_rep"),
    ("east", "sales_manager"),
    ("finance", "finance"),
]
FULL_HEADCOUNT = len(LOGINS) + len(STAFF)  # 40

CUSTOM_FIELDS: list[dict[str, Any]] = [
    {
        "object_type": "customers.customer",
        "name": "erp_code",
        "label_en": "ERP code",
        "label_zh": "ERP 编号",
        "type": "text",
        "help_text": "Customer number in the ERP system.",
        "order": 1,
    },
    {
        "object_type": "customers.customer",
        "name": "key_account",
        "label_en": "Key account",
        "label_zh": "大客户",
        "type": "boolean",
        "order": 2,
    },
    {
        "object_type": "sales.lead",
        "name": "budget",
        "label_en": "Budget (CNY)",
        "label_zh": "预算（元）",
        "type": "decimal",
        "order": 1,
    },
]


@dataclass
class Org:
    admin: User
    teams: dict[str, Team]
    users: list[User]
    logins: list[User]
    # sales users per region key, repeated by weight (reps own more than managers)
    owners: dict[str, list[User]] = field(default_factory=dict)
    marketers: list[User] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)

    def all_owners(self) -> list[User]:
        return [u for region in SALES_REGIONS for u in self.owners.get(region, [])]


def _role_codes(user: User) -> set[str]:
    return {r.code for r in user.roles.all()}


def _ensure_admin(roles: dict[str, Role], created: dict[str, int]) -> User:
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User(
            username="admin",
            display_name=LOGINS[0][1],
            email=f"admin@{EMAIL_DOMAIN}",
            is_staff=True,
            is_superuser=True,
            language="zh-hans",
        )
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        admin.roles.set([roles["administrator"]])
        events.record(
            actor=admin,
            obj=admin,
            verb="created",
            changes={"username": [None, "admin"], "roles": [None, [roles["administrator"].pk]]},
        )
        created["users"] = created.get("users", 0) + 1
    return admin


def _ensure_teams(admin: User, created: dict[str, int]) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for key, name, parent_key in TEAMS:
        parent = teams.get(parent_key) if parent_key else None
        team = Team.objects.filter(name=name, parent=parent).first()
        if team is None:
            team = user_services.create_team(actor=admin, name=name, parent=parent)
            created["teams"] = created.get("teams", 0) + 1
        teams[key] = team
    return teams


def _new_user(
    *, admin: User, username: str, display: str, team: Team, role: Role, language: str, password: str | None
) -> User:
    # a generator of its own, so whether this user already existed never shifts the names drawn after it
    phone = cn_mobile(random.Random(f"phone:{username}"))[1]
    user = User(
        username=username,
        display_name=display,
        email=f"{username}@{EMAIL_DOMAIN}",
        team=team,
        language=language,
        phone=phone,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.roles.set([role])
    events.record(
        actor=admin,
        obj=user,
        verb="created",
        changes={
            "username": [None, username],
            "display_name": [None, display],
            "email": [None, user.email],
            "team": [None, team.pk],
            "roles": [None, [role.pk]],
            "language": [None, language],
        },
    )
    return user


def ensure_org(*, headcount: int = FULL_HEADCOUNT, seed: int = 2026) -> Org:
    """Teams, users and the demo logins, tags and custom fields: whatever of these is missing."""
    rng = random.Random(f"{seed}:org")
    created: dict[str, int] = {}
    with transaction.atomic():
        roles = {r.code: r for r in Role.objects.all()}
        admin = _ensure_admin(roles, created)
        teams = _ensure_teams(admin, created)
        if admin.team_id is None and created.get("users"):
            admin.team = teams["hq"]  # the bootstrap administrator existed before the teams did
            admin.save(update_fields=["team"])
            events.record(actor=admin, obj=admin, verb="updated", changes={"team": [None, admin.team_id]})
        logins = [admin]
        for username, display, team_key, role_code, language in LOGINS[1:]:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = _new_user(
                    admin=admin,
                    username=username,
                    display=display,
                    team=teams[team_key],
                    role=roles[role_code],
                    language=language,
                    password=DEMO_PASSWORD,
                )
                created["users"] = created.get("users", 0) + 1
            logins.append(user)
        staff = _ensure_staff(admin, teams, roles, max(headcount - len(LOGINS), 0), rng, created)
        users = logins + staff
        _ensure_team_leads(admin, teams, users)
        tags = _ensure_tags(admin, created)
        _ensure_custom_fields(admin, created)
    org = Org(admin=admin, teams=teams, users=users, logins=logins, tags=tags, created=created)
    key_of_team = {t.pk: k for k, t in teams.items()}
    for u in users:
        codes = _role_codes(u)
        region = key_of_team.get(u.team_id or 0)
        if region in SALES_REGIONS and codes & {"sales_rep", "sales_manager"}:
            org.owners.setdefault(region, []).extend([u] * (3 if "sales_rep" in codes else 1))
        if "marketing" in codes:
            org.marketers.append(u)
    return org


def _ensure_staff(
    admin: User, teams: dict[str, Team], roles: dict[str, Role], count: int, rng: random.Random, created: dict[str, int]
) -> list[User]:
    """The further staff are named from the seeded generator, so the same seed gives the same people; a
    user name already taken by one of them is reused, never duplicated."""
    out: list[User] = []
    taken: set[str] = {u for u, *_rest in LOGINS}
    for team_key, role_code in STAFF[:count]:
        latin = team_key == "intl" and rng.random() < 0.6
        person = make_person(rng, latin=latin)
        if latin:
            display = person.name
        elif rng.random() < 0.35:
            nick = N.ENGLISH_NICKNAMES_F if person.gender == "f" else N.ENGLISH_NICKNAMES_M
            display = f"{rng.choice(nick)} {person.name}"
        else:
            display = person.name
        base = f"{person.given_py}.{person.surname_py}" if latin else f"{person.surname_py}.{person.given_py}"
        username, n = base, 1
        while username in taken:
            n += 1
            username = f"{base}{n}"
        taken.add(username)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = _new_user(
                admin=admin,
                username=username,
                display=display,
                team=teams[team_key],
                role=roles[role_code],
                language="en" if latin else "zh-hans",
                password=None,
            )
            created["users"] = created.get("users", 0) + 1
        out.append(user)
    return out


def _ensure_team_leads(admin: User, teams: dict[str, Team], users: list[User]) -> None:
    for key, team in teams.items():
        if team.lead_id:
            continue
        wanted = "administrator" if key == "hq" else "sales_manager"
        members = [u for u in users if u.team_id == team.pk]
        lead = next((u for u in members if wanted in _role_codes(u) and u.username != "admin"), None)
        lead = lead or (members[0] if members and key not in SALES_REGIONS + ("sales",) else None)
        if lead is not None:
            user_services.update_team(actor=admin, team=team, name=team.name, parent=team.parent, lead=lead)


def _ensure_tags(admin: User, created: dict[str, int]) -> list[Tag]:
    out = []
    for name, colour in N.TAGS:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag = customer_services.get_or_create_tag(actor=admin, name=name)
            Tag.objects.filter(pk=tag.pk).update(color=colour)
            created["tags"] = created.get("tags", 0) + 1
        out.append(tag)
    return out


def _ensure_custom_fields(admin: User, created: dict[str, int]) -> None:
    for data in CUSTOM_FIELDS:
        if not CustomFieldDefinition.objects.filter(object_type=data["object_type"], name=data["name"]).exists():
            customfields.save_definition(actor=admin, defn=None, data=dict(data))
            created["custom fields"] = created.get("custom fields", 0) + 1


def role_label(user: User) -> str:
    roles = list(user.roles.all())
    label = ", ".join(f"{r.name_en} ({r.name_zh})" for r in roles)
    if user.is_superuser:
        label = _("superuser") + (", " + label if label else "")
    return label

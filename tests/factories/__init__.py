"""factory-boy factories for the tests: every record is made through its service, as a user would make it,
so each one has its events, lifecycle history and search entry.

    UserFactory(roles=["sales_rep"], team=east)       # a user with seed roles (codes) in a team
    TeamFactory(name="华东区", parent=sales)
    CustomerFactory(owner=rep, name="上海示例科技有限公司")
    ContactFactory(owner=rep, customer=customer, channels=[{"kind": "email", "value": "zw@example.com"}])
    LeadFactory(owner=rep, name="张伟", company="杭州云帆", email="zw@example.com")

`actor=` makes the record as another user (a manager creating a rep's customer); by default the owner acts.
Fixtures exposing these live in tests/conftest.py.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales import services as sales_services
from kehu.sales.models import Lead
from kehu.users import services as user_services
from kehu.users.models import Role, Team, User

PASSWORD = "Kehu-test-pass-2024!"
OPERATOR = "operator"


def operator() -> User:
    """The superuser that sets the company up, as `kehu createsuperuser` would (created on first use)."""
    user = User.objects.filter(username=OPERATOR).first()
    if user is None:
        user = User(username=OPERATOR, email="operator@example.com", is_staff=True, is_superuser=True)
        user.password = make_password(PASSWORD)
        user.save()
    return user


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"团队{n}")
    parent = None
    lead = None

    @classmethod
    def _create(cls, model_class: type[Team], *args: Any, actor: User | None = None, **kwargs: Any) -> Team:
        return user_services.create_team(
            actor=actor or operator(), name=kwargs["name"], parent=kwargs.get("parent"), lead=kwargs.get("lead")
        )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    language = "en"
    team = None

    @classmethod
    def _create(
        cls,
        model_class: type[User],
        *args: Any,
        roles: list[str] | tuple[str, ...] = (),
        password: str = PASSWORD,
        actor: User | None = None,
        **kwargs: Any,
    ) -> User:
        role_objs = [Role.objects.get(code=code) for code in roles]
        return user_services.create_user(actor=actor or operator(), data=kwargs, password=password, roles=role_objs)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"示例客户{n}有限公司")

    @classmethod
    def _create(
        cls,
        model_class: type[Customer],
        *args: Any,
        owner: User,
        actor: User | None = None,
        custom: dict[str, Any] | None = None,
        tags: Any = (),
        **data: Any,
    ) -> Customer:
        return customer_services.create_customer(actor=actor or owner, owner=owner, data=data, custom=custom, tags=tags)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"联系人{n}")
    customer = None

    @classmethod
    def _create(
        cls,
        model_class: type[Contact],
        *args: Any,
        owner: User,
        actor: User | None = None,
        channels: list[dict[str, Any]] | tuple[()] = (),
        custom: dict[str, Any] | None = None,
        **data: Any,
    ) -> Contact:
        return customer_services.create_contact(
            actor=actor or owner, owner=owner, data=data, channels=channels, custom=custom
        )


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"线索{n}")

    @classmethod
    def _create(
        cls,
        model_class: type[Lead],
        *args: Any,
        owner: User,
        actor: User | None = None,
        custom: dict[str, Any] | None = None,
        **data: Any,
    ) -> Lead:
        return sales_services.create_lead(actor=actor or owner, owner=owner, data=data, custom=custom)

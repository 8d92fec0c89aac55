"""factory_boy factories; units get their materialized path from the same helper the services use."""

from __future__ import annotations

from typing import Any

import factory

from units.models import Unit, UnitKind, User, UserRole
from units.services import unit_child_path


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"U{n:06d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    short_name = factory.LazyAttribute(lambda o: o.name)
    kind = UnitKind.GOVERNMENT
    parent = None

    @factory.post_generation
    def set_path(obj: Unit, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            obj.path = unit_child_path(obj.parent.path if obj.parent else "", obj.pk)
            obj.depth = obj.parent.depth + 1 if obj.parent else 0
            obj.save(update_fields=["path", "depth"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    unit = factory.SubFactory(UnitFactory)
    password = factory.django.Password("Passw0rd!")

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create and extracted:
            UserRole.objects.bulk_create([UserRole(user=obj, role=r) for r in extracted])
            obj.__dict__.pop("role_codes", None)

    @factory.post_generation
    def overseen(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create and extracted:
            obj.overseen_units.set(extracted)

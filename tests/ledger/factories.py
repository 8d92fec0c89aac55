"""Factories for campaigns and the ledger; problems are created through the services so numbering and the
first timeline entry are real."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from campaigns.models import DEFAULT_SOURCES, Campaign, CampaignStatus, Category, Source
from ledger import services
from ledger.models import Measure, Problem


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"作风整顿专项行动{n}")
    code = factory.Sequence(lambda n: f"ZF{2022 + n}")
    status = CampaignStatus.ACTIVE
    start_date = dt.date(2022, 3, 1)
    end_date = dt.date(2022, 12, 31)

    @factory.post_generation
    def sources(obj: Campaign, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            Source.objects.bulk_create(
                [Source(campaign=obj, name=n, sort_order=i) for i, n in enumerate(extracted or DEFAULT_SOURCES)]
            )


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    campaign = factory.SubFactory(CampaignFactory)
    code = factory.Sequence(lambda n: f"{n}")
    name = factory.Sequence(lambda n: f"问题类别{n}")


def make_problem(
    *, campaign: Campaign, by: Any, lead_unit: Any, deadline: dt.date | None = dt.date(2022, 6, 30),
    summary: str = "窗口服务态度差", **values: Any,
) -> Problem:
    return services.problem_create(
        campaign=campaign, by=by, summary=summary, lead_unit=lead_unit, deadline=deadline, **values
    )


def data_clerk() -> Any:
    """An office clerk who enters what a test sets up (measures, progress), as the office may."""
    from units.models import Role, User

    clerk = User.objects.filter(username="factory-clerk").first()
    if clerk is None:
        from tests.factories import UserFactory

        clerk = UserFactory(username="factory-clerk", full_name="录入员", roles=[Role.OFFICE])
    return clerk


def make_measure(*, problem: Problem, unit: Any, content: str = "开展专项整治", by: Any = None,
                 **values: Any) -> Measure:
    values.setdefault("deadline", dt.date(2022, 6, 30))
    return services.measure_create(problem=problem, by=by or data_clerk(), content=content, unit=unit, **values)

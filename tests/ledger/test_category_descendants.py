"""A category stands for its whole subtree: the ledger filter and the 回头看 sample include every level below."""

from __future__ import annotations

from django.urls import reverse

from ledger import lookback, workflow
from ledger.models import ProblemStatus
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_problem


def test_category_filter_and_lookback_include_grandchildren(client, people, county):
    campaign = CampaignFactory(code="ZF2040")
    top = CategoryFactory(campaign=campaign, code="1", name="政治责任方面")
    mid = CategoryFactory(campaign=campaign, code="1.01", name="学习贯彻不深不实", parent=top)
    leaf = CategoryFactory(campaign=campaign, code="1.01.1", name="以会代学", parent=mid)
    other = CategoryFactory(campaign=campaign, code="2", name="担当尽责方面")
    deep = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, category=leaf,
                        summary="三级类别的问题")
    make_problem(campaign=campaign, by=people.office, lead_unit=county.education, category=other,
                 summary="别的类别的问题")

    client.force_login(people.office, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("ledger:problem_list"), {"category": top.pk}).content.decode()
    assert "三级类别的问题" in page and "别的类别的问题" not in page

    # close it through the workflow, then sample the top category for 回头看
    from ledger import services
    from ledger.models import MeasureStatus

    workflow.assign(problem=deep, by=people.office)
    m = services.measure_create(problem=deep, by=people.liaison, content="整改", unit=county.education,
                                deadline=deep.deadline)
    services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=deep, by=people.liaison, summary="已完成")
    workflow.approve(problem=deep, by=people.office)
    deep.refresh_from_db()
    assert deep.status == ProblemStatus.CLOSED
    [check] = lookback.lookback_draw(campaign=campaign, by=people.office, batch="第一批", category=top)
    assert check.problem_id == deep.pk

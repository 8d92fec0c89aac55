"""报表统计单位: the rows a campaign's reports count, when the office names them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns import services
from reports.figures import Period, by_reporting_unit, reporting_units, snapshot
from tests.reports.test_figures import timeline  # noqa: F401


def test_named_rows_replace_the_children_of_the_root(timeline, people, county):  # noqa: F811
    campaign, _ = timeline
    assert {u.name for u in reporting_units(campaign)} >= {"县教育体育局", "县财政局", "城关街道"}
    services.campaign_update(campaign=campaign, by=people.office,
                             report_units=[county.education_school, county.finance])
    assert {u.name for u in reporting_units(campaign)} == {"县第一高级中学", "县财政局"}
    table = by_reporting_unit(snapshot(campaign, Period.month(2022, 5)), reporting_units(campaign))
    # 县教育体育局's own problems are in no row now; 县财政局 keeps its two.
    assert table[county.education_school.pk].total == 0 and table[county.finance.pk].total == 2


@pytest.mark.parametrize("pick, message", [
    (lambda c: [c.education, c.education_school], "是其他所选单位的下级"),
])
def test_rows_inside_another_row_are_refused(timeline, people, county, pick, message):  # noqa: F811
    campaign, _ = timeline
    with pytest.raises(ValidationError, match=message):
        services.campaign_update(campaign=campaign, by=people.office, report_units=pick(county))
    assert not campaign.report_units.exists()


def test_a_row_outside_the_jurisdiction_is_refused(timeline, people, county):  # noqa: F811
    campaign, _ = timeline
    campaign.jurisdiction.set([county.education])
    with pytest.raises(ValidationError, match="不在覆盖范围内"):
        services.campaign_update(campaign=campaign, by=people.office, report_units=[county.finance])


def test_the_campaign_page_lists_them(timeline, people, county, client):  # noqa: F811
    campaign, _ = timeline
    services.campaign_update(campaign=campaign, by=people.office, report_units=[county.finance, county.town])
    client.force_login(people.office)
    html = client.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert "报表统计单位" in html and "2 个：财政局、城关街道" in html

"""The closure dashboard: every number opens the ledger list of exactly the problems it counts, per role."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reports.dashboard import Drill, build_dashboard, drill_ids
from reports.figures import Period, snapshot
from tests.reports.test_figures import on, timeline  # noqa: F401

MAY_31 = "2022-05-31"
TZ = timezone.get_current_timezone()
LINK = re.compile(r'<a[^>]*href="(?P<href>[^"]*drill=[^"]*)"[^>]*data-(?:tile|drill|light)="(?P<what>[^"]+)"'
                  r'(?:[^>]*data-value="(?P<value>\d+)")?', re.S)


def dashboard(client, user, campaign, as_of=MAY_31):
    client.force_login(user)
    response = client.get(reverse("reports:dashboard"), {"campaign": campaign.pk, "as_of": as_of})
    assert response.status_code == 200
    return response


def listed_count(client, href):
    response = client.get(unescape(href))
    assert response.status_code == 200
    return response.context["page_obj"].paginator.count, response


def links(html):
    return [(m["what"], unescape(m["href"]), m["value"]) for m in LINK.finditer(html)]


@pytest.mark.parametrize("actor", ["office", "leader", "admin"])
def test_every_number_on_the_page_opens_a_list_of_that_many_problems(timeline, people, client, actor):  # noqa: F811
    campaign, _ = timeline
    page = dashboard(client, getattr(people, actor), campaign).content.decode()
    found = [(w, h, int(v)) for w, h, v in links(page) if v is not None]
    assert len(found) > 20  # tiles, unit rows, trend months, categories, sources
    for what, href, value in found:
        count, _ = listed_count(client, href)
        assert count == value, f"{what}: the page says {value}, the list holds {count} ({href})"


def test_the_office_tiles_are_may_as_it_stood(timeline, people, client):  # noqa: F811
    campaign, county = timeline
    board = dashboard(client, people.office, campaign).context["board"]
    f = board.figures
    assert (f.total, f.closed, f.pending_review, f.in_progress, f.overdue) == (5, 2, 1, 2, 1)
    assert board.lights == {"红": 1, "黄": 0, "绿": 1}
    assert [r.unit.name for r in board.rows if r.rank] == ["县教育体育局", "县财政局"]
    # The bars of the charts carry the same drills as the table.
    charts = dashboard(client, people.office, campaign).context["charts"]
    for url, total in zip(charts["units"]["urls"], charts["units"]["totals"], strict=True):
        assert listed_count(client, url)[0] == total
    for url, new in zip(charts["trend"]["new_urls"], charts["trend"]["new"], strict=True):
        assert listed_count(client, url)[0] == new
    for url, closed in zip(charts["trend"]["closed_urls"], charts["trend"]["closed"], strict=True):
        assert listed_count(client, url)[0] == closed
    assert dict(zip(charts["trend"]["months"], charts["trend"]["closed"], strict=True)) == {
        "2022-03": 0, "2022-04": 2, "2022-05": 0}


def test_the_trend_agrees_with_the_snapshot_of_each_month(timeline, people):  # noqa: F811
    campaign, _ = timeline
    board = build_dashboard(people.office, campaign, dt.date(2022, 6, 30))
    for point in board.trend:
        f = snapshot(campaign, point.period).figures()
        assert (point.total, point.closed_total, point.new) == (f.total, f.closed, f.new), point.label


def test_a_leader_sees_only_their_units(timeline, people, client):  # noqa: F811
    campaign, county = timeline
    board = dashboard(client, people.leader, campaign).context["board"]
    # The leader is of 县财政局 and oversees 城关街道: 县教育体育局's problems are not theirs.
    assert board.figures.total == 2
    assert {r.unit.name for r in board.rows} == {"县财政局", "城关街道"}
    # A drill naming 县教育体育局, forged into the URL, lists nothing for them (and three for the office).
    forged = str(Drill(campaign.pk, dt.date(2022, 5, 31), "total", "unit", str(county.education.pk)))
    assert drill_ids(people.leader, Drill.parse(forged))[1] == []
    assert len(drill_ids(people.office, Drill.parse(forged))[1]) == 3
    count, _ = listed_count(client, f"{reverse('ledger:problem_list')}?drill={forged}")
    assert count == 0


@pytest.mark.parametrize("raw", ["x", "1:2022-13-01:total", "1:2022-05-31:everything", "1:2022-05-31:total:unit:x",
                                 "1:2022-05-31:total:planet:3", "99999:2022-05-31:total", "1:2022-05-31:new:month:13"])
def test_a_forged_drill_is_an_error_in_chinese_and_an_empty_list(timeline, people, client, raw):  # noqa: F811
    client.force_login(people.office)
    response = client.get(reverse("ledger:problem_list"), {"drill": raw})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 0
    assert "请从工作台重新点击进入" in response.content.decode() or "不存在" in response.content.decode()


def test_a_date_to_come_is_refused_and_today_is_used(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    client.force_login(people.office)
    response = client.get(reverse("reports:dashboard"), {"campaign": campaign.pk, "as_of": "2999-01-01"})
    assert response.status_code == 200
    assert "截至日期不能晚于今天" in response.content.decode()


def test_the_unit_table_exports_to_excel(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    client.force_login(people.office)
    response = client.get(reverse("reports:dashboard_export", args=["units"]),
                          {"campaign": campaign.pk, "as_of": MAY_31})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("排名", "单位", "问题总数", "已销号")
    edu = next(r for r in rows if r[1] == "县教育体育局")
    assert (edu[0], edu[2], edu[3], edu[7]) == (1, 3, 2, "66.7%")


def test_scripts_carry_the_nonce_of_the_policy(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    response = dashboard(client, people.office, campaign)
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script(?![^>]*application/json)[^>]*>", html)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert "echarts.min.js" in html and "cdn" not in html.lower()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_a_period_counted_up_to_a_day(timeline, people):  # noqa: F811
    campaign, _ = timeline
    may = Period.month(2022, 5)
    assert may.until(dt.date(2022, 5, 10)).end == dt.date(2022, 5, 10)
    f = snapshot(campaign, may.until(dt.date(2022, 5, 10))).figures()
    # P4 is assigned on 5/11 and P5 voided on 5/30: on the 10th P5 is still 整改中, P4 not yet counted.
    assert (f.total, f.in_progress, f.pending_review, f.overdue) == (5, 3, 0, 0)


def test_a_leaders_home_shows_their_dashboard_and_its_numbers_open_their_problems(timeline, people, client):  # noqa: F811
    campaign, _ = timeline
    client.force_login(people.leader)
    with time_machine.travel(dt.datetime(2022, 5, 31, 18, tzinfo=TZ), tick=False):
        html = client.get(reverse("home")).content.decode()
        found = [(w, h, int(v)) for w, h, v in links(html) if v is not None]
        assert 'data-testid="home-dashboard"' in html and found
        for what, href, value in found:
            assert listed_count(client, href)[0] == value, what
    client.force_login(people.office)
    assert 'data-testid="home-dashboard"' not in client.get(reverse("home")).content.decode()

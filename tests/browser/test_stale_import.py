"""The stale-export scenario through the browser: the office re-imports a ledger exported before a 回头看 reopened a
problem; the preview shows the state difference and the conflicts, and confirming signs nothing off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from ledger import lookback, services, workflow
from ledger.excel.exporter import export_ledger_xlsx
from ledger.models import MeasureStatus, Problem, ProblemStatus, ReviewRound, Transition
from tests.browser.test_journey import open_as
from tests.ledger.factories import CampaignFactory, make_problem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_export_is_shown_as_conflicts_and_signs_nothing_off(
    browser: Browser, browser_context_args, live_server, people, county, tmp_path, screenshot_dir,
):
    campaign = CampaignFactory(code="ZF2026", name="深化机关作风整顿专项行动")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="窗口推诿扯皮")
    workflow.assign(problem=p, by=people.office)
    m = services.measure_create(problem=p, by=people.liaison, content="建立首问负责制", unit=county.education,
                                deadline=p.deadline)
    services.progress_add(measure=m, by=people.liaison, text="制度已印发", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="已整改")
    workflow.approve(problem=p, by=people.office, opinion="同意销号")
    old = tmp_path / "台账（旧）.xlsx"
    old.write_bytes(export_ledger_xlsx(Problem.objects.filter(pk=p.pk), title="深化机关作风整顿专项行动问题整改台账"))
    [check] = lookback.lookback_draw(campaign=campaign, by=people.office, batch="第一批", unit=county.education)
    lookback.lookback_record(check=check, by=people.office, result="relapsed", finding="窗口再次出现推诿")
    transitions, rounds = Transition.objects.filter(problem=p).count(), ReviewRound.objects.filter(problem=p).count()

    office = open_as(browser, browser_context_args, live_server.url, people.office.username)
    office.goto(f"{live_server.url}/ledger/import/")
    office.get_by_label("台账文件").set_input_files(str(old))
    office.get_by_label("专项行动编号").fill("ZF2026")
    office.get_by_role("button", name="上传并预检").click()
    expect(office.get_by_test_id("count-conflict")).to_have_text("1")
    expect(office.get_by_test_id("notice").first).to_contain_text("系统：整改中；文件：已销号 — 状态不从文件导入")
    conflict = office.get_by_test_id("conflict").filter(has_text="措施1 状态")
    expect(conflict).to_contain_text("推进中")
    expect(conflict).to_contain_text("已完成")
    office.screenshot(path=str(screenshot_dir / "import-conflict.png"), full_page=True)

    office.get_by_role("button", name="确认导入").first.click()
    office.get_by_test_id("apply-submit").click()
    expect(office.get_by_test_id("done-summary")).to_contain_text("导入完成")
    p.refresh_from_db()
    assert p.status == ProblemStatus.IN_PROGRESS
    assert m.__class__.objects.get(pk=m.pk).status == MeasureStatus.IN_PROGRESS
    assert Transition.objects.filter(problem=p).count() == transitions
    assert ReviewRound.objects.filter(problem=p).count() == rounds

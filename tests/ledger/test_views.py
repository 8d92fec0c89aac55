"""The ledger's pages: who may open which, what a forged URL or POST gets, and that the office's and the liaisons'
actions go through to the workflow. Scope first: anything out of the user's scope is a 404 and changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from ledger import lookback, services, workflow
from ledger.models import (
    Evidence,
    LookbackCheck,
    LookbackResult,
    Measure,
    MeasureStatus,
    Problem,
    ProblemStatus,
    ProgressEntry,
    ReviewRound,
    Transition,
    TransitionAction,
)
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem

TODAY = timezone.localdate()


def pdf(name: str = "制度文件.pdf", body: bytes = b"%PDF-1.4 evidence") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@dataclass
class Ledger:
    campaign: object
    edu: Problem  # led by 县教育体育局, in progress, with a measure, progress and evidence
    fin: Problem  # led by 县财政局, in progress, with a measure, progress and evidence
    draft: Problem  # not yet assigned
    edu_measure: Measure
    fin_measure: Measure
    edu_evidence: Evidence
    fin_evidence: Evidence


@pytest.fixture
def ledger(people, county) -> Ledger:
    campaign = CampaignFactory(code="ZF2022")
    edu = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="教体局窗口推诿扯皮",
                       deadline=TODAY + dt.timedelta(days=30))
    fin = make_problem(campaign=campaign, by=people.office, lead_unit=county.finance, summary="财政局资金拨付慢",
                       deadline=TODAY - dt.timedelta(days=3))
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="尚未分派的问题",
                         deadline=TODAY + dt.timedelta(days=60))
    workflow.assign(problem=edu, by=people.office)
    workflow.assign(problem=fin, by=people.office)
    edu_measure = make_measure(problem=edu, unit=county.education, content="建立首问负责制")
    fin_measure = make_measure(problem=fin, unit=county.finance, content="优化拨付流程")
    e1 = services.progress_add(measure=edu_measure, by=people.liaison, text="制度已印发", files=[pdf("教体局.pdf")])
    e2 = services.progress_add(measure=fin_measure, by=people.sibling_liaison, text="流程已优化",
                               files=[pdf("财政局.pdf")])
    return Ledger(campaign, edu, fin, draft, edu_measure, fin_measure, e1.evidence.get(), e2.evidence.get())


def snapshot() -> dict:
    """Everything a forged request might have changed."""
    return {
        "problems": sorted(Problem.objects.values_list("pk", "status", "summary", "lead_unit_id", "deadline")),
        "measures": sorted(Measure.objects.values_list("pk", "status", "content")),
        "progress": ProgressEntry.objects.count(),
        "evidence": Evidence.objects.count(),
        "transitions": Transition.objects.count(),
        "rounds": sorted(ReviewRound.objects.values_list("pk", "decision")),
        "lookbacks": sorted(LookbackCheck.objects.values_list("pk", "result")),
    }


def login(client, user):
    # The first backend (django-axes) only guards; the model backend is the one that loads users.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def url(name, *args):
    return reverse(f"ledger:{name}", args=args)


# ---- anonymous and outsiders -----------------------------------------------------------------------------------

def all_urls(ledger: Ledger) -> list[str]:
    check = LookbackCheck.objects.create(problem=ledger.edu, batch="b")
    return [
        url("problem_list"), url("problem_export"), url("problem_create"), url("problem_assign"),
        url("review_queue"), url("my_tasks"),
        url("deadline_preview"), url("lookback_list"), url("lookback_draw"),
        url("problem_detail", ledger.edu.pk), url("problem_edit", ledger.edu.pk),
        url("measure_create", ledger.edu.pk), url("problem_apply", ledger.edu.pk),
        url("problem_review", ledger.edu.pk), url("problem_void", ledger.edu.pk), url("problem_reopen", ledger.edu.pk),
        url("progress_add", ledger.edu_measure.pk), url("measure_edit", ledger.edu_measure.pk),
        url("evidence_download", ledger.edu_evidence.pk), url("lookback_record", check.pk),
    ]


def test_anonymous_is_sent_to_login_everywhere(client, ledger):
    for u in all_urls(ledger):
        response = client.get(u)
        assert response.status_code == 302, u
        assert response["Location"].startswith(reverse("login")), u
        assert client.post(u).status_code == 302, u


def test_outsider_without_role_gets_403_or_404_and_changes_nothing(client, people, ledger):
    login(client, people.outsider)
    before = snapshot()
    for u in all_urls(ledger):
        assert client.get(u).status_code in (403, 404), u
        posted = client.post(u, {"summary": "x", "text": "x", "reason": "x", "decision": "approve"})
        assert posted.status_code in (403, 404, 405), u  # 405: a read-only page
    assert snapshot() | {"lookbacks": []} == before | {"lookbacks": []}


# ---- a liaison of a sibling unit forging URLs and POSTs --------------------------------------------------------

def test_sibling_liaison_forging_gets_404_for_every_object_and_nothing_changes(client, people, ledger):
    """县财政局's liaison types 县教育体育局's problem, measure and evidence URLs, and posts to them."""
    login(client, people.sibling_liaison)
    before = snapshot()
    p, m, ev = ledger.edu, ledger.edu_measure, ledger.edu_evidence
    gets = [
        url("problem_detail", p.pk), url("problem_edit", p.pk), url("measure_create", p.pk),
        url("problem_apply", p.pk), url("problem_review", p.pk), url("problem_void", p.pk),
        url("problem_reopen", p.pk), url("progress_add", m.pk), url("measure_edit", m.pk),
        url("evidence_download", ev.pk), url("problem_detail", ledger.draft.pk),
    ]
    for u in gets:
        assert client.get(u).status_code == 404, u
    posts = [
        (url("measure_create", p.pk), {"content": "伪造的措施", "unit": people.sibling_liaison.unit_id,
                                       "deadline": "2030-01-01"}),
        (url("progress_add", m.pk), {"on": TODAY.isoformat(), "text": "伪造的进展", "mark_status": "done",
                                     "files": pdf("伪造.pdf")}),
        (url("measure_edit", m.pk), {"content": "被篡改的措施", "unit": people.sibling_liaison.unit_id,
                                     "deadline": "2030-01-01"}),
        (url("problem_apply", p.pk), {"summary": "伪造的销号申请"}),
        (url("problem_review", p.pk), {"decision": "approve", "opinion": "伪造"}),
        (url("problem_edit", p.pk), {"summary": "被篡改", "rectification_type": "time_limited"}),
        (url("problem_void", p.pk), {"reason": "伪造"}),
        (url("problem_reopen", p.pk), {"reason": "伪造"}),
        (url("problem_assign"), {"ids": [ledger.draft.pk]}),
    ]
    for u, data in posts:
        assert client.post(u, data).status_code in (403, 404), u
    # the bulk assign is the office's (403); every object lookup above was a 404
    assert client.post(url("problem_assign"), {"ids": [ledger.draft.pk]}).status_code == 403
    assert snapshot() == before
    # and the sibling's own problem is there for them
    assert client.get(url("problem_detail", ledger.fin.pk)).status_code == 200
    assert client.get(url("evidence_download", ledger.fin_evidence.pk)).status_code == 200


def test_sibling_liaison_list_and_tasks_hold_only_their_unit(client, people, ledger):
    login(client, people.sibling_liaison)
    numbers = {p.number for p in client.get(url("problem_list")).context["page_obj"]}
    assert numbers == {ledger.fin.number}
    tasks = client.get(url("my_tasks")).context["tasks"]
    assert [p.number for p in tasks.problems] == [ledger.fin.number]
    assert [m.pk for m in tasks.measures] == [ledger.fin_measure.pk]


def test_co_unit_liaison_sees_the_problem_but_may_record_only_on_their_measure(client, people, county, ledger):
    """A co-unit sees the problem (it is in their scope) but the lead unit's measure is not theirs: 403."""
    p = ledger.edu
    p.co_units.add(county.finance)
    fin_on_edu = make_measure(problem=p, unit=county.finance, content="配合提供经费")
    login(client, people.sibling_liaison)
    assert client.get(url("problem_detail", p.pk)).status_code == 200
    before = snapshot()
    forged = client.post(url("progress_add", ledger.edu_measure.pk), {"on": TODAY.isoformat(), "text": "x"})
    assert forged.status_code == 403
    assert client.post(url("problem_apply", p.pk), {"summary": "x"}).status_code == 403
    assert client.post(url("measure_create", p.pk), {"content": "x", "unit": county.finance.pk,
                                                     "deadline": "2030-01-01"}).status_code == 403
    for m in (ledger.edu_measure, fin_on_edu):  # a co-unit does not edit measures, not even its own
        assert client.post(url("measure_edit", m.pk), {"content": "x", "unit": county.finance.pk,
                                                       "deadline": "2030-01-01"}).status_code == 403
    assert url("measure_edit", fin_on_edu.pk) not in client.get(url("problem_detail", p.pk)).content.decode()
    assert snapshot() == before
    response = client.post(url("progress_add", fin_on_edu.pk), {"on": TODAY.isoformat(), "text": "经费已到位"})
    assert response.status_code == 302
    assert fin_on_edu.progress_entries.count() == 1


# ---- editing a measure -----------------------------------------------------------------------------------------

MEASURE_EDIT = {"content": "  建立首问负责制并公示  ", "responsible_person": " 李四 ", "deadline": "2031-06-30"}


@pytest.mark.parametrize("who", ["office", "liaison"])
def test_office_and_lead_liaison_edit_a_measure(client, people, county, ledger, who):
    login(client, getattr(people, who))
    m = ledger.edu_measure
    detail = client.get(url("problem_detail", ledger.edu.pk)).content.decode()
    assert f'href="{url("measure_edit", m.pk)}"' in detail and "编辑" in detail
    page = client.get(url("measure_edit", m.pk))
    assert page.status_code == 200 and "修改整改措施1" in page.content.decode()
    assert page.context["form"]["content"].value() == "建立首问负责制"
    assert page.context["form"]["unit"].value() == county.education.pk
    assert "add_another" not in page.content.decode()
    response = client.post(url("measure_edit", m.pk), {**MEASURE_EDIT, "unit": county.education_school.pk})
    assert response.status_code == 302 and response["Location"] == url("problem_detail", ledger.edu.pk) + \
        f"#measure-{m.pk}"
    m.refresh_from_db()
    assert (m.content, m.unit, m.responsible_person, m.deadline, m.is_long_term, m.seq) == (
        "建立首问负责制并公示", county.education_school, "李四", dt.date(2031, 6, 30), False, 1)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(m.pk),
                                     content_type__model="measure").exists()
    # long-term with no deadline is allowed; neither is not
    response = client.post(url("measure_edit", m.pk), {"content": "长期坚持", "unit": county.education.pk,
                                                       "is_long_term": "on"})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.is_long_term and m.deadline is None


def test_measure_edit_with_bad_input_shows_chinese_errors_and_changes_nothing(client, people, county, ledger):
    login(client, people.liaison)
    m = ledger.edu_measure
    before = snapshot()
    cases = [
        ({"content": "   ", "unit": county.education.pk, "deadline": "2031-01-01"}, "content", "请填写整改措施内容。"),
        ({"content": "x", "unit": county.education.pk}, "deadline", "请填写完成时限，或勾选“长期坚持”。"),
        ({"content": "x", "unit": county.town.pk, "deadline": "2031-01-01"}, "unit", "请选择有效的责任单位。"),
        ({"content": "x", "unit": "²", "deadline": "2031-01-01"}, "unit", "请选择有效的责任单位。"),
        ({"content": "x", "unit": str(2**64), "deadline": "2031-01-01"}, "unit", "请选择有效的责任单位。"),
        ({"content": "x", "unit": county.education.pk, "deadline": "9999-99-99"}, "deadline", "请输入有效的日期。"),
        ({"content": "x\x00", "unit": county.education.pk, "deadline": "2031-01-01"}, "content", None),
    ]
    for data, field, message in cases:
        response = client.post(url("measure_edit", m.pk), data)
        assert response.status_code == 200, data
        errors = response.context["form"].errors[field]
        assert errors and (message is None or message in errors), (data, errors)
    assert snapshot() == before


def test_measure_edit_is_refused_once_the_problem_left_rectification(client, people, ledger):
    apply_edu(people, ledger)  # now 待核查
    before = snapshot()
    for who in (people.liaison, people.office):
        login(client, who)
        # refused by the problem's state: the problem page says why (not the generic permission page)
        response = client.get(url("measure_edit", ledger.edu_measure.pk), follow=True)
        assert response.redirect_chain[-1][0] == url("problem_detail", ledger.edu.pk)
        assert "当前状态为“待核查”，不能修改整改措施" in response.content.decode()
        response = client.post(url("measure_edit", ledger.edu_measure.pk), {"content": "x", "unit": 1,
                                                                             "deadline": "2031-01-01"})
        assert response.status_code == 302 and response["Location"] == url("problem_detail", ledger.edu.pk)
        assert url("measure_edit", ledger.edu_measure.pk) not in \
            client.get(url("problem_detail", ledger.edu.pk)).content.decode()
    assert snapshot() == before


def test_measure_edit_of_a_missing_measure_is_404(client, people, ledger):
    login(client, people.office)
    assert client.get(url("measure_edit", 999999)).status_code == 404


# ---- leaders read only ------------------------------------------------------------------------------------------

def test_leader_reads_list_and_problem_page_in_scope_without_action_buttons(client, people, ledger):
    login(client, people.leader)  # 县财政局 + 城关街道
    page = client.get(url("problem_list"))
    assert {p.number for p in page.context["page_obj"]} == {ledger.fin.number}
    detail = client.get(url("problem_detail", ledger.fin.pk))
    assert detail.status_code == 200
    html = detail.content.decode()
    p, m = ledger.fin, ledger.fin_measure
    for action in (url("problem_edit", p.pk), url("measure_create", p.pk), url("problem_apply", p.pk),
                   url("progress_add", m.pk), url("measure_edit", m.pk), url("problem_void", p.pk),
                   url("problem_review", p.pk)):
        assert action not in html, action
    assert 'method="post"' not in html.split('id="main"')[1]  # no form but the navbar's 退出
    assert "财政局.pdf" in html
    assert client.get(url("problem_detail", ledger.edu.pk)).status_code == 404
    assert client.get(url("evidence_download", ledger.edu_evidence.pk)).status_code == 404


def test_leader_posts_are_refused_and_change_nothing(client, people, county, ledger):
    login(client, people.leader)
    before = snapshot()
    p, m = ledger.fin, ledger.fin_measure
    refused = [
        (url("measure_create", p.pk), {"content": "x", "unit": county.finance.pk, "deadline": "2030-01-01"}),
        (url("progress_add", m.pk), {"on": TODAY.isoformat(), "text": "x"}),
        (url("measure_edit", m.pk), {"content": "x", "unit": county.finance.pk, "deadline": "2030-01-01"}),
        (url("problem_apply", p.pk), {"summary": "x"}),
        (url("problem_review", p.pk), {"decision": "return", "opinion": "x"}),
        (url("problem_edit", p.pk), {"summary": "x", "rectification_type": "time_limited"}),
        (url("problem_void", p.pk), {"reason": "x"}),
        (url("problem_create"), {"campaign": ledger.campaign.pk, "summary": "x"}),
        (url("problem_assign"), {"ids": [p.pk]}),
        (url("lookback_draw"), {}),
    ]
    for u, data in refused:
        assert client.post(u, data).status_code == 403, u
    for name in ("review_queue", "my_tasks", "lookback_list", "problem_create"):
        assert client.get(url(name)).status_code == 403, name
    refused_page = client.get(url("measure_edit", m.pk))
    assert refused_page.status_code == 403 and "无权访问" in refused_page.content.decode()
    assert client.post(url("problem_detail", p.pk)).status_code == 405
    assert snapshot() == before


# ---- evidence --------------------------------------------------------------------------------------------------

def test_evidence_is_streamed_as_attachment_with_its_original_name(client, people, ledger):
    login(client, people.liaison)
    response = client.get(url("evidence_download", ledger.edu_evidence.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 evidence"
    assert "attachment" in response["Content-Disposition"]
    assert "%E6%95%99%E4%BD%93%E5%B1%80.pdf" in response["Content-Disposition"]  # 教体局.pdf
    login(client, people.office)
    assert client.get(url("evidence_download", ledger.edu_evidence.pk)).status_code == 200


def test_evidence_has_no_public_media_url(client, people, ledger, settings):
    login(client, people.office)
    assert client.get(settings.MEDIA_URL + ledger.edu_evidence.file.name).status_code == 404


def test_progress_with_files_and_mark_done(client, people, ledger):
    login(client, people.liaison)
    m = ledger.edu_measure
    files = [pdf("整改报告.pdf"), SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg")]
    response = client.post(url("progress_add", m.pk), {
        "on": TODAY.isoformat(), "text": "已完成整改", "mark_status": "done", "files": files,
    })
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.status == MeasureStatus.DONE
    entry = m.progress_entries.order_by("-id").first()
    assert sorted(entry.evidence.values_list("original_name", flat=True)) == ["整改报告.pdf", "现场照片.jpg"]


def test_progress_refuses_a_bad_file_and_saves_nothing(client, people, ledger, settings):
    login(client, people.liaison)
    before = snapshot()
    response = client.post(url("progress_add", ledger.edu_measure.pk), {
        "on": TODAY.isoformat(), "text": "附件", "files": [pdf("ok.pdf"), SimpleUploadedFile("病毒.exe", b"MZ")],
    })
    assert response.status_code == 200
    assert "类型不支持" in response.content.decode()
    settings.EVIDENCE_MAX_BYTES = 10
    assert snapshot() == before


def test_progress_refuses_a_file_over_the_size_limit(client, people, ledger, monkeypatch):
    monkeypatch.setattr(services, "EVIDENCE_MAX_BYTES", 8)
    login(client, people.liaison)
    before = snapshot()
    response = client.post(url("progress_add", ledger.edu_measure.pk), {
        "on": TODAY.isoformat(), "text": "附件", "files": [pdf("大文件.pdf", b"x" * 100)],
    })
    assert response.status_code == 200 and "超过" in response.content.decode()
    assert snapshot() == before


def test_progress_form_is_served_inline_to_htmx(client, people, ledger):
    login(client, people.liaison)
    response = client.get(url("progress_add", ledger.edu_measure.pk), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'enctype="multipart/form-data"' in html


# ---- the office ------------------------------------------------------------------------------------------------

def test_office_creates_a_problem_with_a_working_day_deadline(client, people, county, ledger):
    login(client, people.office)
    cat = CategoryFactory(campaign=ledger.campaign, code="1", name="担当尽责方面")
    source = ledger.campaign.sources.get(name="督查反馈")
    response = client.post(url("problem_create"), {
        "campaign": ledger.campaign.pk, "summary": "会议文件多", "description": "文山会海",
        "source": source.pk, "category": cat.pk, "lead_unit": county.education.pk,
        "co_units": [county.finance.pk], "rectification_type": "time_limited",
        "deadline_mode": "workdays", "deadline_days": "10", "deadline_start": "2026-09-28",
    })
    assert response.status_code == 302
    p = Problem.objects.get(summary="会议文件多")
    # 2026-09-28 plus ten working days skips the National Day holiday (10/1–10/8) and counts the 调休 Saturday
    from campaigns.workdays import add_working_days

    assert p.deadline == add_working_days(dt.date(2026, 9, 28), 10)
    assert p.status == ProblemStatus.DRAFT and p.number == "ZF2022-0004"
    assert list(p.co_units.all()) == [county.finance]
    assert p.transitions.get().action == TransitionAction.CREATE


def test_problem_form_refuses_another_campaigns_category(client, people, county, ledger):
    other = CategoryFactory(code="9", name="别的行动的类别")
    login(client, people.office)
    response = client.post(url("problem_create"), {
        "campaign": ledger.campaign.pk, "summary": "x", "category": other.pk, "rectification_type": "time_limited",
        "deadline_mode": "date",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["category"]
    assert not Problem.objects.filter(summary="x").exists()


def test_office_edits_a_problem(client, people, county, ledger):
    login(client, people.office)
    response = client.post(url("problem_edit", ledger.edu.pk), {
        "summary": "教体局窗口推诿扯皮（已核实）", "rectification_type": "time_limited",
        "lead_unit": county.education.pk, "deadline_mode": "date", "deadline": "2030-06-30",
    })
    assert response.status_code == 302
    ledger.edu.refresh_from_db()
    assert ledger.edu.summary.endswith("（已核实）") and ledger.edu.deadline == dt.date(2030, 6, 30)
    assert ledger.edu.status == ProblemStatus.IN_PROGRESS


def test_office_assigns_several_drafts_at_once(client, people, county, ledger):
    second = make_problem(campaign=ledger.campaign, by=people.office, lead_unit=None, deadline=None, summary="二")
    login(client, people.office)
    page = client.get(url("problem_assign"), {"ids": [ledger.draft.pk, second.pk]})
    assert page.status_code == 200 and len(page.context["problems"]) == 2
    response = client.post(url("problem_assign"), {
        "ids": [ledger.draft.pk, second.pk], "lead_unit": county.finance.pk, "deadline_mode": "date",
        "deadline": "2030-01-31", "reason": "集中分派",
    })
    assert response.status_code == 302
    for p in (ledger.draft, second):
        p.refresh_from_db()
        assert (p.status, p.lead_unit, p.deadline) == (ProblemStatus.IN_PROGRESS, county.finance, dt.date(2030, 1, 31))


def test_assigning_is_all_or_nothing(client, people, ledger):
    """One draft without a lead unit: nothing is assigned and the refusal is shown."""
    second = make_problem(campaign=ledger.campaign, by=people.office, lead_unit=None, summary="无牵头单位")
    login(client, people.office)
    before = snapshot()
    response = client.post(url("problem_assign"), {"ids": [ledger.draft.pk, second.pk], "deadline_mode": "date"})
    assert response.status_code == 200
    assert "未指定牵头单位" in response.content.decode()
    assert snapshot() == before


def test_assigning_a_non_draft_is_refused(client, people, ledger):
    login(client, people.office)
    before = snapshot()
    response = client.post(url("problem_assign"), {"ids": [ledger.edu.pk], "deadline_mode": "date"})
    assert response.status_code == 200 and "当前状态为“整改中”，不能分派" in response.content.decode()
    assert snapshot() == before


def test_a_stale_assign_link_explains_instead_of_failing(client, people, ledger):
    """A colleague assigned the problem after the link was made: the page says so and offers nothing to submit."""
    login(client, people.office)
    response = client.get(url("problem_assign") + f"?ids={ledger.edu.pk}")
    page = response.content.decode()
    assert response.status_code == 200 and "以下问题已不能分派" in page and "当前状态为“整改中”，不能分派" in page
    assert 'data-testid="confirm-assign" disabled' in page


def test_refusals_by_state_show_their_reason(client, people, ledger):
    apply_edu(people, ledger)  # now 待核查: no more progress, and it cannot be reopened
    login(client, people.liaison)
    response = client.get(url("progress_add", ledger.edu_measure.pk), follow=True)
    assert "当前状态为“待核查”，不能填报进展" in response.content.decode()
    assert "请联系系统管理员" not in response.content.decode()
    login(client, people.office)
    response = client.get(url("problem_reopen", ledger.edu.pk), follow=True)
    assert "当前状态为“待核查”，不能重新打开" in response.content.decode()


def apply_edu(people, ledger):
    services.progress_add(measure=ledger.edu_measure, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=ledger.edu, by=people.liaison, summary="措施已全部完成")


def test_review_queue_lists_applications_with_evidence_warning(client, people, county, ledger):
    apply_edu(people, ledger)
    bare = make_problem(campaign=ledger.campaign, by=people.office, lead_unit=county.education, summary="无佐证")
    workflow.assign(problem=bare, by=people.office)
    m = make_measure(problem=bare, unit=county.education)
    services.progress_add(measure=m, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=bare, by=people.liaison, summary="已整改")
    login(client, people.office)
    response = client.get(url("review_queue"))
    rows = list(response.context["page_obj"])
    assert [p.number for p in rows] == [ledger.edu.number, bare.number]
    html = response.content.decode()
    assert html.count("未上传佐证材料") == 1 and "措施已全部完成" in html


def test_office_returns_with_an_opinion_and_a_blank_opinion_changes_nothing(client, people, ledger):
    apply_edu(people, ledger)
    login(client, people.office)
    before = snapshot()
    response = client.post(url("problem_review", ledger.edu.pk), {"decision": "return", "opinion": "  "}, follow=True)
    assert "退回时请填写核查意见" in response.content.decode()
    assert snapshot() == before
    client.post(url("problem_review", ledger.edu.pk), {"decision": "return", "opinion": "佐证不足"})
    ledger.edu.refresh_from_db()
    assert ledger.edu.status == ProblemStatus.IN_PROGRESS
    assert ledger.edu.review_rounds.get().opinion == "佐证不足"


def test_office_approves_and_stage_approval_is_only_for_long_term(client, people, ledger):
    apply_edu(people, ledger)
    login(client, people.office)
    response = client.post(url("problem_review", ledger.edu.pk), {"decision": "stage_approve"}, follow=True)
    assert "只有长期坚持类问题可以阶段性销号" in response.content.decode()
    assert Problem.objects.get(pk=ledger.edu.pk).status == ProblemStatus.PENDING_REVIEW
    client.post(url("problem_review", ledger.edu.pk), {"decision": "approve", "opinion": "同意"})
    assert Problem.objects.get(pk=ledger.edu.pk).status == ProblemStatus.CLOSED


def test_reviewing_a_problem_not_pending_shows_the_refusal(client, people, ledger):
    login(client, people.office)
    before = snapshot()
    response = client.post(url("problem_review", ledger.edu.pk), {"decision": "approve"}, follow=True)
    assert "不能核查销号" in response.content.decode()
    assert snapshot() == before


def test_office_voids_with_a_reason(client, people, ledger):
    login(client, people.office)
    assert client.post(url("problem_void", ledger.draft.pk), {"reason": ""}).status_code == 200
    client.post(url("problem_void", ledger.draft.pk), {"reason": "重复录入"})
    ledger.draft.refresh_from_db()
    assert ledger.draft.status == ProblemStatus.VOIDED


# ---- the liaison -----------------------------------------------------------------------------------------------

def test_liaison_adds_a_measure_and_applies(client, people, county, ledger):
    login(client, people.liaison)
    response = client.post(url("measure_create", ledger.edu.pk), {
        "content": "开展回访", "unit": county.education_school.pk, "deadline": "2030-03-01",
    })
    assert response.status_code == 302
    m = ledger.edu.measures.get(content="开展回访")
    assert m.unit == county.education_school and m.seq == 2
    # a unit the problem does not concern is not a choice
    response = client.post(url("measure_create", ledger.edu.pk), {
        "content": "x", "unit": county.town.pk, "deadline": "2030-03-01",
    })
    assert response.status_code == 200 and response.context["form"].errors["unit"]

    page = client.get(url("problem_apply", ledger.edu.pk))
    assert len(page.context["blockers"]) == 2
    response = client.post(url("problem_apply", ledger.edu.pk), {"summary": "已完成"})
    assert response.status_code == 200 and "还不能申请销号" in response.content.decode()
    for measure in ledger.edu.measures.all():
        services.progress_add(measure=measure, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    response = client.post(url("problem_apply", ledger.edu.pk), {"summary": "两项措施均已完成"})
    assert response.status_code == 302
    ledger.edu.refresh_from_db()
    assert ledger.edu.status == ProblemStatus.PENDING_REVIEW


def test_my_tasks_are_red_first_then_by_deadline(client, people, county, ledger):
    soon = make_problem(campaign=ledger.campaign, by=people.office, lead_unit=county.education_school,
                        deadline=TODAY + dt.timedelta(days=2), summary="临期问题")
    late = make_problem(campaign=ledger.campaign, by=people.office, lead_unit=county.finance,
                        deadline=TODAY - dt.timedelta(days=10), summary="逾期问题（本单位配合）",
                        co_units=[county.education])
    for p in (soon, late):
        workflow.assign(problem=p, by=people.office)
    login(client, people.liaison)
    tasks = client.get(url("my_tasks")).context["tasks"]
    assert [p.summary for p in tasks.problems] == ["逾期问题（本单位配合）", "临期问题", "教体局窗口推诿扯皮"]
    assert [p.light_info.light for p in tasks.problems] == ["red", "yellow", "green"]
    assert [p.task_role for p in tasks.problems] == ["co", "lead", "lead"]
    assert client.get(url("my_tasks")).status_code == 200
    login(client, people.office)
    assert client.get(url("my_tasks")).status_code == 403


# ---- the list --------------------------------------------------------------------------------------------------

def listed(client, **params):
    response = client.get(url("problem_list"), params)
    assert response.status_code == 200
    return [p.number for p in response.context["page_obj"]], response.context["counts"]


def test_list_filters_sort_and_counts(client, people, county, ledger):
    login(client, people.office)
    numbers, counts = listed(client)
    assert numbers == [ledger.draft.number, ledger.fin.number, ledger.edu.number]  # newest first
    assert counts["total"] == 3 and counts["red"] == 1 and counts["green"] == 2
    assert listed(client, light="red")[0] == [ledger.fin.number]
    assert listed(client, light="red")[1]["total"] == 3  # the light chips count the rows the other filters leave
    assert listed(client, unit=county.education.pk)[0] == [ledger.draft.number, ledger.edu.number]
    assert listed(client, unit=county.root.pk)[1]["total"] == 3  # the subtree
    assert listed(client, q="拨付")[0] == [ledger.fin.number]
    assert listed(client, status="draft")[0] == [ledger.draft.number]
    assert listed(client, status="open")[1]["total"] == 3
    assert listed(client, sort="deadline")[0][0] == ledger.fin.number
    assert listed(client, sort="number")[0] == [ledger.edu.number, ledger.fin.number, ledger.draft.number]
    assert listed(client, deadline_to=TODAY.isoformat())[0] == [ledger.fin.number]
    assert listed(client, rectification_type="long_term")[0] == []
    assert listed(client, source="群众反映")[0] == []
    # a forged or foreign filter value is ignored, not an error page
    response = client.get(url("problem_list"), {"unit": 999999, "per_page": 7})
    assert response.status_code == 200 and response.context["form"].errors


def test_list_renders_and_paginates(client, people, county, ledger):
    for i in range(25):
        make_problem(campaign=ledger.campaign, by=people.office, lead_unit=county.finance, summary=f"问题{i}")
    login(client, people.office)
    response = client.get(url("problem_list"))
    assert len(response.context["page_obj"]) == 20 and response.context["page_obj"].paginator.num_pages == 2
    assert len(client.get(url("problem_list"), {"per_page": 50}).context["page_obj"]) == 28
    html = response.content.decode()
    assert 'name="ids"' in html  # drafts can be ticked for assigning


def test_problem_page_shows_measures_timeline_rounds_and_history(client, people, ledger):
    apply_edu(people, ledger)
    workflow.return_(problem=ledger.edu, by=people.office, opinion="请补充照片")
    login(client, people.liaison)
    response = client.get(url("problem_detail", ledger.edu.pk))
    html = response.content.decode()
    timeline = response.context["timeline"]
    actions = [i.transition.action for i in timeline if i.transition]
    assert actions == ["create", "assign", "apply", "return"]
    assert sum(1 for i in timeline if i.kind == "progress") == 2
    assert [i.title for i in timeline if i.kind == "measure"] == ["添加整改措施 · 措施1"]
    assert "第1轮" in html and "请补充照片" in html and "教体局.pdf" in html
    assert response.context["history"]
    assert response.context["light"].label.startswith("剩余")


# ---- 回头看 ------------------------------------------------------------------------------------------------------

def close(people, ledger):
    apply_edu(people, ledger)
    workflow.approve(problem=ledger.edu, by=people.office, opinion="同意")


def test_lookback_draw_and_record_relapse_reopens(client, people, ledger):
    close(people, ledger)
    login(client, people.office)
    response = client.post(url("lookback_draw"), {
        "campaign": ledger.campaign.pk, "batch": "第一批", "method": "random", "count": 3,
    })
    assert response.status_code == 302
    check = LookbackCheck.objects.get()
    listing = client.get(url("lookback_list"), {"batch": "第一批"})
    assert [c.pk for c in listing.context["page_obj"]] == [check.pk]
    before = snapshot()
    response = client.post(url("lookback_record", check.pk), {"result": "relapsed", "finding": ""})
    assert response.status_code == 200 and snapshot() == before
    response = client.post(url("lookback_record", check.pk), {"result": "relapsed", "finding": "窗口又脱岗"})
    assert response.status_code == 302 and response["Location"] == url("problem_detail", ledger.edu.pk)
    ledger.edu.refresh_from_db()
    check.refresh_from_db()
    assert ledger.edu.status == ProblemStatus.IN_PROGRESS and check.result == LookbackResult.RELAPSED
    assert check.reopen_transition.action == TransitionAction.REOPEN


def test_lookback_draw_by_unit_needs_a_unit_and_finds_closed_problems_only(client, people, county, ledger):
    login(client, people.office)
    response = client.post(url("lookback_draw"), {"campaign": ledger.campaign.pk, "batch": "b", "method": "unit"})
    assert response.status_code == 200 and response.context["form"].errors["unit"]
    response = client.post(url("lookback_draw"), {"campaign": ledger.campaign.pk, "batch": "b", "method": "unit",
                                                  "unit": county.education.pk})
    assert response.status_code == 200 and "没有符合条件的已销号问题" in response.content.decode()
    close(people, ledger)
    client.post(url("lookback_draw"), {"campaign": ledger.campaign.pk, "batch": "b", "method": "unit",
                                       "unit": county.education.pk})
    assert list(LookbackCheck.objects.values_list("problem_id", flat=True)) == [ledger.edu.pk]


def test_lookback_consolidated_keeps_problem_closed(client, people, ledger):
    close(people, ledger)
    [check] = lookback.lookback_draw(campaign=ledger.campaign, by=people.office, batch="b")
    login(client, people.office)
    client.post(url("lookback_record", check.pk), {"result": "consolidated"})
    ledger.edu.refresh_from_db()
    assert ledger.edu.status == ProblemStatus.CLOSED


# ---- home cards ----------------------------------------------------------------------------------------------

def test_home_cards_partial_counts_the_users_scope(rf, people, ledger):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = people.liaison
    html = render_to_string("ledger/_home_cards.html", {"request": request, "user": people.liaison})
    assert 'data-count="open">1<' in html  # 教体局's own problem; the draft stays with the office
    request.user = people.office
    html = render_to_string("ledger/_home_cards.html", {"request": request, "user": people.office})
    assert 'data-count="open">3<' in html and 'data-count="red">1<' in html
    request.user = people.outsider
    assert "ledger-home-cards" not in render_to_string("ledger/_home_cards.html", {"request": request})


# ---- export ----------------------------------------------------------------------------------------------------

def exported_numbers(response) -> set[str]:
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(response.content)).active
    return {c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str) and c.startswith("ZF")}


def test_export_is_the_filtered_scoped_ledger(client, people, county, ledger):
    login(client, people.office)
    response = client.get(url("problem_export"), {"unit": county.education.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert exported_numbers(response) == {ledger.edu.number, ledger.draft.number}
    login(client, people.sibling_liaison)
    assert exported_numbers(client.get(url("problem_export"))) == {ledger.fin.number}
    login(client, people.outsider)
    assert client.get(url("problem_export")).status_code == 403


def test_a_returned_problem_heads_the_liaisons_tasks_as_rework(client, people, ledger):
    apply_edu(people, ledger)
    workflow.return_(problem=ledger.edu, by=people.office, opinion="佐证材料不足，请补充会议记录")
    login(client, people.liaison)
    page = client.get(url("my_tasks")).content.decode()
    rows = page.split('data-testid="task-problems"')[1].split("<tbody>")[1]
    first = rows.split("</tr>")[0]
    assert ledger.edu.number in first and "退回重改" in first
    assert "核查意见" in first and "佐证材料不足，请补充会议记录" in first
    assert "btn-success" not in first  # no green 申请销号 until new progress is reported
    services.progress_add(measure=ledger.edu_measure, by=people.liaison, text="已补充会议记录")
    page = client.get(url("my_tasks")).content.decode()
    first = page.split('data-testid="task-problems"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert "退回重改" in first, first
    assert "btn-success" in first, first


def test_a_pasted_control_character_is_refused_on_the_form_naming_the_field(client, people, county, ledger):
    login(client, people.office)
    before = snapshot()
    response = client.post(url("problem_create"), {
        "campaign": ledger.campaign.pk, "summary": "会议\x1b文件多", "description": "文山\x08会海",
        "lead_unit": county.education.pk, "rectification_type": "time_limited", "deadline_mode": "date",
        "deadline": "2026-12-31",
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert "「问题概述」含有不可见的控制字符（\\x1b）" in page and "含有不可见的控制字符（\\x08）" in page
    assert snapshot() == before
    login(client, people.liaison)
    response = client.post(url("progress_add", ledger.edu_measure.pk), {"text": "已完成\x01", "on": "2026-11-30"})
    assert response.status_code == 200 and "「整改进展」含有不可见的控制字符" in response.content.decode()
    assert snapshot() == before

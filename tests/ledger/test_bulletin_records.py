"""What a quarterly bulletin counts, kept in the ledger: 典型案例 (the office marks a problem 正面 or 反面 with a
note), 追责问责 records on a problem (the office adds and deletes them; everyone who sees the problem reads them),
and 整改成效 reported with an application for sign-off (the 制度 made, the funds recovered). Refusals are explained
in Chinese and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.audit import history_for
from core.models import AuditEntry
from ledger import services, workflow
from ledger.models import Accountability, AccountabilityForm, Exemplar, MeasureStatus, Problem, ReviewRound
from tests.ledger.factories import CampaignFactory, make_measure, make_problem

TODAY = timezone.localdate()
BADGE = 'data-testid="exemplar-badge"'


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="ZF2022")


@pytest.fixture
def problem(campaign, people, county) -> Problem:
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="教体局窗口推诿扯皮",
                     deadline=TODAY + dt.timedelta(days=30))
    return workflow.assign(problem=p, by=people.office)


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def page(client, problem: Problem) -> str:
    return client.get(reverse("ledger:problem_detail", args=[problem.pk])).content.decode()


# ---- 典型案例 ----------------------------------------------------------------------------------------------------

def exemplar(client, problem: Problem, kind: str, note: str = "窗口推诿扯皮，群众多次往返"):
    return client.post(reverse("ledger:problem_exemplar", args=[problem.pk]), {"kind": kind, "note": note},
                       follow=True)


def exemplar_state(problem: Problem) -> tuple:
    p = Problem.objects.get(pk=problem.pk)
    return p.exemplar, p.exemplar_note, p.version, history_for(p).count()


def test_the_office_sets_and_clears_an_exemplar(client, people, problem):
    login(client, people.office)
    version = Problem.objects.get(pk=problem.pk).version

    response = exemplar(client, problem, Exemplar.NEGATIVE)

    problem.refresh_from_db()
    assert (problem.exemplar, problem.exemplar_note) == ("negative", "窗口推诿扯皮，群众多次往返")
    assert problem.version == version + 1
    assert response.redirect_chain[-1][0] == reverse("ledger:problem_detail", args=[problem.pk])
    html = response.content.decode()
    assert f"问题 {problem.number} 已列为反面典型案例。" in html
    assert BADGE in html and "反面典型" in html and "窗口推诿扯皮，群众多次往返" in html
    assert AuditEntry.objects.filter(object_id=str(problem.pk), changes__exemplar=["", "negative"]).exists()

    html = exemplar(client, problem, "", note="").content.decode()
    problem.refresh_from_db()
    assert (problem.exemplar, problem.exemplar_note) == ("", "")
    assert f"问题 {problem.number} 已取消典型案例。" in html and BADGE not in html


@pytest.mark.parametrize(("kind", "note", "message"), [
    ("positive", " ", "设为典型案例时请填写说明。"),
    ("bad", "说明", "请选择正面典型、反面典型或取消典型案例。"),
    ("", "", "该问题未列为典型案例。"),
    ("positive", "长" * 301, "典型案例说明不能超过300个字。"),
    ("positive", "含\x01控制字符", "控制字符"),
])
def test_bad_exemplar_input_is_explained_and_changes_nothing(client, people, problem, kind, note, message):
    login(client, people.office)
    before = exemplar_state(problem)
    assert message in exemplar(client, problem, kind, note).content.decode()
    assert exemplar_state(problem) == before


def test_only_the_office_may_set_an_exemplar(client, people, problem):
    url = reverse("ledger:problem_exemplar", args=[problem.pk])
    before = exemplar_state(problem)
    for who, status in ((people.liaison, 403), (people.leader, 404), (people.sibling_liaison, 404),
                        (people.outsider, 404)):
        login(client, who)
        assert client.post(url, {"kind": "positive", "note": "典型"}).status_code == status, who
    assert exemplar_state(problem) == before
    assert 'data-testid="exemplar-form"' not in page(login(client, people.liaison), problem)
    assert 'data-testid="exemplar-form"' in page(login(client, people.office), problem)
    assert client.get(url).status_code == 405


def test_a_draft_cannot_be_an_exemplar(client, people, campaign, county):
    draft = make_problem(campaign=campaign, by=people.office, lead_unit=county.education)
    login(client, people.office)
    before = exemplar_state(draft)
    html = exemplar(client, draft, Exemplar.POSITIVE).content.decode()
    assert "当前状态为“待分派”，不能设为典型案例。" in html
    assert exemplar_state(draft) == before


def test_everyone_who_sees_the_problem_sees_the_badge(client, people, problem):
    workflow.set_exemplar(problem=problem, by=people.office, kind=Exemplar.POSITIVE, note="整改迅速，群众满意")
    html = page(login(client, people.liaison), problem)
    assert BADGE in html and "正面典型" in html and "整改迅速，群众满意" in html


# ---- 追责问责 ----------------------------------------------------------------------------------------------------

def record_data(county, **overrides) -> dict:
    return {"unit": county.education.pk, "person": "张三", "post": "政务服务股股长",
            "form": AccountabilityForm.ADMONITION, "decided_on": (TODAY - dt.timedelta(days=3)).isoformat(),
            "decided_by": "县纪委监委", "note": "窗口推诿扯皮", **overrides}


def add_url(problem: Problem) -> str:
    return reverse("ledger:accountability_add", args=[problem.pk])


def records_state() -> tuple:
    written = AuditEntry.objects.exclude(action__in=[AuditEntry.Action.LOGIN, AuditEntry.Action.LOGOUT,
                                                      AuditEntry.Action.DENIED])
    return list(Accountability.objects.values_list("pk", flat=True)), written.count()


def test_the_office_adds_a_record_shown_to_everyone_who_sees_the_problem(client, people, county, problem):
    login(client, people.office)
    assert client.get(add_url(problem)).status_code == 200

    response = client.post(add_url(problem), record_data(county), follow=True)

    record = Accountability.objects.get()
    assert (record.problem, record.unit, record.person, record.form) == (
        problem, county.education, "张三", AccountabilityForm.ADMONITION)
    assert record.created_by == people.office
    assert "已登记追责问责：张三（政务服务股股长）诫勉。" in response.content.decode()
    entry = history_for(record).get()
    assert entry.changes["person"] == "张三" and entry.changes["decided_by"] == "县纪委监委"
    html = page(login(client, people.liaison), problem)
    assert "诫勉" in html and "政务服务股股长" in html and "县纪委监委" in html
    assert 'data-testid="accountability-add"' not in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"decided_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "决定日期不能晚于今天。"),
    ({"person": " "}, "请填写被问责人。"),
    ({"form": "fine"}, "请选择问责方式。"),
    ({"decided_by": ""}, "请填写决定机关。"),
    ({"note": "含\x01控制字符"}, "「备注」含有不可见的控制字符"),
    ({"unit": "999999"}, "请选择有效的单位。"),
])
def test_bad_records_are_explained_and_write_nothing(client, people, county, problem, overrides, message):
    login(client, people.office)
    before = records_state()
    response = client.post(add_url(problem), record_data(county, **overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert records_state() == before


def test_the_service_refuses_what_the_form_would(people, county, problem):
    values = {"unit": county.education, "person": "张三", "post": "股长", "form": AccountabilityForm.REMINDER,
              "decided_on": TODAY, "decided_by": "县纪委监委"}
    before = records_state()
    with pytest.raises(workflow.WorkflowError) as exc:
        services.accountability_add(problem=problem, by=people.liaison, **values)
    assert exc.value.kind == workflow.ROLE
    cases = [({"decided_on": TODAY + dt.timedelta(days=1)}, "decided_on", "决定日期不能晚于今天。"),
             ({"post": "长" * 101}, "post", "职务不能超过100个字。"),
             ({"form": "fine"}, "form", "请选择问责方式。")]
    county.finance.is_active = False
    county.finance.save()
    cases.append(({"unit": county.finance}, "unit", "单位“县财政局”不存在或已停用。"))
    for overrides, field, message in cases:
        with pytest.raises(services.ValidationError) as err:
            services.accountability_add(problem=problem, by=people.office, **{**values, **overrides})
        assert err.value.message_dict[field] == [message]
    assert records_state() == before


def test_out_of_scope_problems_and_records_are_not_found(client, people, county, problem):
    record = services.accountability_add(problem=problem, by=people.office, unit=county.education, person="张三",
                                         post="股长", form=AccountabilityForm.REMINDER, decided_on=TODAY,
                                         decided_by="县纪委监委")
    delete = reverse("ledger:accountability_delete", args=[record.pk])
    before = records_state()
    for who in (people.sibling_liaison, people.leader, people.outsider):
        login(client, who)
        assert client.get(add_url(problem)).status_code == 404, who
        assert client.post(add_url(problem), record_data(county)).status_code == 404, who
        assert client.post(delete).status_code == 404, who
    login(client, people.liaison)
    assert client.get(add_url(problem)).status_code == 403
    assert client.post(delete).status_code == 403
    assert records_state() == before


def test_the_office_deletes_a_record_and_the_audit_keeps_it(client, people, county, problem):
    record = services.accountability_add(problem=problem, by=people.office, unit=county.education, person="李四",
                                         post="副局长", form=AccountabilityForm.DISCIPLINARY, decided_on=TODAY,
                                         decided_by="县纪委监委")
    login(client, people.office)
    html = page(client, problem)
    delete = reverse("ledger:accountability_delete", args=[record.pk])
    assert f'action="{delete}"' in html and "确定删除对李四的追责问责记录吗？" in html
    assert client.get(delete).status_code == 405

    response = client.post(delete, follow=True)

    assert not Accountability.objects.exists()
    assert "已删除追责问责记录：李四（副局长）党纪政务处分。" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DELETE)
    assert entry.object_id == str(record.pk) and entry.changes["person"] == "李四"
    assert "李四" in entry.note


# ---- 整改成效 ----------------------------------------------------------------------------------------------------

@pytest.fixture
def ready(people, county, problem) -> Problem:
    m = make_measure(problem=problem, unit=county.education)
    services.progress_add(measure=m, by=people.liaison, text="制度已印发", mark_status=MeasureStatus.DONE)
    return problem


def apply_url(problem: Problem) -> str:
    return reverse("ledger:problem_apply", args=[problem.pk])


def test_outcomes_are_stored_with_the_application_and_shown(client, people, ready):
    login(client, people.liaison)
    response = client.post(apply_url(ready), {
        "summary": "措施已全部完成", "rules_made": "窗口首问负责制\n\n  限时办结制度 ", "funds_recovered": "12500.5",
    }, follow=True)
    rr = ReviewRound.objects.get(problem=ready)
    assert rr.rules_made == "窗口首问负责制\n限时办结制度"
    assert rr.funds_recovered == Decimal("12500.50")
    html = response.content.decode()
    assert "窗口首问负责制<br>限时办结制度" in html and "挽回经济损失：12500.50 元" in html
    assert "挽回经济损失：12500.50 元" in page(login(client, people.office), ready)


def test_outcomes_are_optional(client, people, ready):
    login(client, people.liaison)
    assert 'name="rules_made"' in client.get(apply_url(ready)).content.decode()
    client.post(apply_url(ready), {"summary": "措施已全部完成", "rules_made": "", "funds_recovered": ""})
    rr = ReviewRound.objects.get(problem=ready)
    assert (rr.rules_made, rr.funds_recovered) == ("", None)


def test_negative_funds_are_refused(client, people, ready):
    login(client, people.liaison)
    response = client.post(apply_url(ready), {"summary": "措施已全部完成", "funds_recovered": "-1"})
    assert response.status_code == 200 and "挽回经济损失不能为负数。" in response.content.decode()
    with pytest.raises(workflow.WorkflowError, match="挽回经济损失不能为负数。"):
        workflow.apply(problem=ready, by=people.liaison, summary="完成", funds_recovered=Decimal("-0.01"))
    assert not ReviewRound.objects.filter(problem=ready).exists()
    assert Problem.objects.get(pk=ready.pk).status == "in_progress"

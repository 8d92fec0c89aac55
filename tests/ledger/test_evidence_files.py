"""佐证材料 as files: checked by content on upload and kept with the type found, served only as attachments (images may
be viewed) under a sandbox policy, and removed — softly, for the record — by the uploader or the office while the unit
still works on the problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from core.audit import history_for
from core.models import AuditEntry
from ledger import selectors, services, workflow
from ledger.models import Evidence, MeasureStatus, ProblemStatus, ProgressEntry
from tests.factories import UserFactory
from tests.ledger.factories import CampaignFactory, evidence_bytes, evidence_upload, make_measure, make_problem
from units.models import Role

TODAY = timezone.localdate()


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def url(name, *args):
    return reverse(f"ledger:{name}", args=args)


@pytest.fixture
def problem(people, county):
    campaign = CampaignFactory(code="ZF2022")
    p = make_problem(campaign=campaign, by=people.office, lead_unit=county.education, summary="教体局窗口推诿扯皮",
                     deadline=TODAY + dt.timedelta(days=30))
    workflow.assign(problem=p, by=people.office)
    make_measure(problem=p, unit=county.education, content="建立首问负责制")
    return p


@pytest.fixture
def measure(problem):
    return problem.measures.get()


def upload(measure, by, *files, done=False):
    return services.progress_add(measure=measure, by=by, text="制度已印发", files=list(files),
                                 mark_status=MeasureStatus.DONE if done else None)


@pytest.fixture
def evidence(measure, people):
    return upload(measure, people.liaison, evidence_upload("整改报告.pdf")).evidence.get()


def stored() -> list[tuple]:
    return sorted(Evidence.all_objects.values_list("pk", "original_name", "content_type", "removed_at"))


def read(response) -> bytes:
    return b"".join(response.streaming_content)


# ---- the content check on upload ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "says"), [
    ("整改报告.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "文件“整改报告.pdf”的内容是 Windows 可执行程序"),
    ("现场照片.png", b"<html><body><script>alert(document.cookie)</script></body></html>",
     "文件“现场照片.png”的内容是网页（HTML）"),
    ("现场照片.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
     "文件“现场照片.png”的内容是 SVG 图像"),
    ("整改报告.pdf", evidence_bytes(".png"), "文件“整改报告.pdf”的内容是 PNG 图片，与扩展名 .pdf 不符。"),
])
def test_a_file_whose_content_is_not_what_its_name_says_is_refused_and_nothing_is_saved(
    client, people, measure, evidence, name, content, says,
):
    login(client, people.liaison)
    before = (stored(), ProgressEntry.objects.count())
    response = client.post(url("progress_add", measure.pk), {
        "on": TODAY.isoformat(), "text": "附件", "files": [evidence_upload(name, content, "application/pdf")],
    })
    assert response.status_code == 200
    assert says in response.content.decode()
    assert (stored(), ProgressEntry.objects.count()) == before


def test_the_service_refuses_the_same_files_whoever_calls_it(people, measure):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        upload(measure, people.liaison, evidence_upload("照片.png", b"<html><script>x</script></html>"))
    assert "网页（HTML）" in exc.value.messages[0]
    assert not Evidence.all_objects.exists()


def test_the_type_found_is_stored_never_the_one_the_browser_sent(client, people, measure):
    login(client, people.liaison)
    long_type = "application/" + "x" * 300  # longer than the column: stored as it came, it failed on PostgreSQL
    files = [evidence_upload("现场照片.png", content_type="text/html"),
             evidence_upload("台账.xlsx", content_type=long_type), evidence_upload("旧报告.doc", content_type="")]
    response = client.post(url("progress_add", measure.pk), {"on": TODAY.isoformat(), "text": "附件", "files": files})
    assert response.status_code == 302
    assert dict(Evidence.objects.values_list("original_name", "content_type")) == {
        "现场照片.png": "image/png",
        "台账.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "旧报告.doc": "application/msword",
    }


def test_a_long_name_keeps_its_extension_and_a_name_loses_its_folders_and_control_characters(people, measure):
    long_name = "关于" + "整改落实情况" * 50 + "的报告.pdf"
    entry = upload(measure, people.liaison, evidence_upload(long_name), evidence_upload("整改\x07报告\u202e.pdf"))
    names = sorted(entry.evidence.values_list("original_name", flat=True), key=len)
    assert names[0] == "整改报告.pdf"
    assert len(names[1]) == 255 and names[1].endswith(".pdf") and names[1].startswith("关于整改落实情况")
    audit = history_for(entry).get(action=AuditEntry.Action.CREATE)
    assert audit.changes["files"] == [names[1], names[0]]  # the names as kept


# ---- serving --------------------------------------------------------------------------------------------------------

def assert_sandboxed(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
    assert "no-store" in response["Cache-Control"]


def test_a_download_is_an_attachment_of_the_type_found_with_its_chinese_name(client, people, evidence):
    response = login(client, people.office).get(url("evidence_download", evidence.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('整改报告.pdf')}"
    assert_sandboxed(response)
    assert read(response) == evidence_bytes(".pdf")


def test_an_image_opens_in_the_browser_under_the_sandbox_policy(client, people, measure):
    image = upload(measure, people.liaison, evidence_upload("现场照片.png", content_type="text/html")).evidence.get()
    response = login(client, people.liaison).get(url("evidence_view", image.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert_sandboxed(response)
    assert read(response) == evidence_bytes(".png")
    download = client.get(url("evidence_download", image.pk))
    assert download["Content-Disposition"].startswith("attachment;") and download["Content-Type"] == "image/png"


def test_a_pdf_or_an_office_file_asked_to_open_in_the_browser_is_downloaded(client, people, measure, evidence):
    login(client, people.liaison)
    word = upload(measure, people.liaison, evidence_upload("报告.docx")).evidence.get()
    for f in (evidence, word):
        response = client.get(url("evidence_view", f.pk))
        assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
        assert_sandboxed(response)


def test_a_file_kept_with_the_browsers_type_is_never_served_as_a_page(client, people, measure, evidence):
    """Files an older version kept with the type the browser sent: an unknown type goes out as octet-stream, and an
    "image" is shown only if its bytes are one."""
    Evidence.objects.filter(pk=evidence.pk).update(content_type="text/html")
    login(client, people.liaison)
    for name in ("evidence_download", "evidence_view"):
        response = client.get(url(name, evidence.pk))
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
    Evidence.objects.filter(pk=evidence.pk).update(content_type="image/png")  # a PDF that claimed to be an image
    response = client.get(url("evidence_view", evidence.pk))
    assert response["Content-Disposition"].startswith("attachment;")


def test_files_out_of_scope_are_not_found_by_any_evidence_url(client, people, evidence):
    for user in (people.sibling_liaison, people.outsider):
        login(client, user)
        for name in ("evidence_download", "evidence_view", "evidence_remove"):
            assert client.get(url(name, evidence.pk)).status_code == 404, (user, name)
        assert client.post(url("evidence_remove", evidence.pk), {"reason": "错传"}).status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_the_problem_page_links_view_for_images_and_download_for_every_file(client, people, measure, evidence):
    image = upload(measure, people.liaison, evidence_upload("现场照片.jpg")).evidence.get()
    html = login(client, people.liaison).get(url("problem_detail", measure.problem_id)).content.decode()
    assert f'href="{url("evidence_view", image.pk)}" target="_blank" rel="noopener" data-testid="evidence-view">查看<' \
        in html
    assert url("evidence_view", evidence.pk) not in html
    for f in (evidence, image):
        assert f'href="{url("evidence_download", f.pk)}" class="link-secondary" data-testid="evidence-download">下载<' \
            in html


# ---- removing a wrong file ---------------------------------------------------------------------------------------

def remove(client, evidence, reason="上传错了文件"):
    return client.post(url("evidence_remove", evidence.pk), {"reason": reason})


def test_the_uploader_confirms_then_removes_a_wrong_file_which_stays_for_the_record(client, people, evidence):
    login(client, people.liaison)
    confirm = client.get(url("evidence_remove", evidence.pk))
    assert confirm.status_code == 200
    assert "确定删除佐证材料“整改报告.pdf”？删除后不计入佐证材料，记录保留备查。" in confirm.content.decode()
    assert Evidence.objects.filter(pk=evidence.pk).exists()  # asking changes nothing
    response = remove(client, evidence)
    assert response.status_code == 302
    anchor = f"#measure-{evidence.progress.measure_id}"
    assert response["Location"] == url("problem_detail", evidence.problem_id) + anchor
    kept = Evidence.all_objects.get(pk=evidence.pk)
    assert kept.removed_at is not None and kept.removed_by == people.liaison and kept.removal_reason == "上传错了文件"
    assert Path(kept.file.path).exists()
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    entry = history_for(kept).get(action=AuditEntry.Action.DELETE)
    assert entry.actor == people.liaison and entry.note == "删除佐证材料“整改报告.pdf”：上传错了文件"
    assert entry.changes["removal_reason"] == "上传错了文件" and entry.changes["original_name"] == "整改报告.pdf"


def test_the_office_removes_a_liaisons_file_and_can_still_download_it_others_cannot(client, people, evidence):
    assert remove(login(client, people.office), evidence).status_code == 302
    response = client.get(url("evidence_download", evidence.pk))
    assert response.status_code == 200 and read(response) == evidence_bytes(".pdf")
    assert login(client, people.liaison).get(url("evidence_download", evidence.pk)).status_code == 404
    assert client.get(url("evidence_view", evidence.pk)).status_code == 404


def test_removal_needs_a_reason_and_a_second_removal_changes_nothing(client, people, evidence):
    login(client, people.liaison)
    response = remove(client, evidence, reason="  ")
    assert response.status_code == 200 and "请填写删除原因。" in response.content.decode()
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert remove(client, evidence, reason="长" * 201).status_code == 200
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    remove(client, evidence)
    again = remove(client, evidence, reason="再删一次")
    assert again.status_code == 302
    assert history_for(evidence).filter(action=AuditEntry.Action.DELETE).count() == 1
    assert Evidence.all_objects.get(pk=evidence.pk).removal_reason == "上传错了文件"


def colleague_and_leader(county):
    """A liaison of the same unit who did not upload the file, and a leader who sees the whole county."""
    return (UserFactory(username="liaison3", full_name="教体局另一联络员", unit=county.education, roles=[Role.LIAISON]),
            UserFactory(username="leader2", full_name="县领导", unit=county.root, roles=[Role.LEADER]))


def test_only_the_uploader_and_the_office_may_remove(client, people, county, evidence):
    colleague, leader = colleague_and_leader(county)
    for user in (colleague, leader, people.admin):
        login(client, user)
        assert client.get(url("evidence_remove", evidence.pk)).status_code == 403, user
        assert remove(client, evidence).status_code == 403, user
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.DELETE).exists()


def pending(problem, people):
    workflow.apply(problem=problem, by=people.liaison, summary="措施已全部完成")


@pytest.mark.parametrize("state", [ProblemStatus.PENDING_REVIEW, ProblemStatus.CLOSED])
def test_no_removal_once_sign_off_is_applied_for(client, people, problem, measure, state):
    evidence = upload(measure, people.liaison, evidence_upload(), done=True).evidence.get()
    pending(problem, people)
    if state == ProblemStatus.CLOSED:
        workflow.approve(problem=problem, by=people.office, opinion="同意")
    for user in (people.liaison, people.office):
        login(client, user)
        response = client.get(url("evidence_remove", evidence.pk), follow=True)
        assert f"当前状态为“{ProblemStatus(state).label}”，不能删除佐证材料" in response.content.decode()
        remove(client, evidence)
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    with pytest.raises(workflow.WorkflowError) as exc:
        services.evidence_remove(evidence=evidence, by=people.office, reason="错传")
    assert exc.value.kind == workflow.STATE


def test_after_a_return_the_unit_may_remove_again(client, people, problem, measure):
    evidence = upload(measure, people.liaison, evidence_upload(), done=True).evidence.get()
    pending(problem, people)
    workflow.return_(problem=problem, by=people.office, opinion="佐证材料有误")
    assert remove(login(client, people.liaison), evidence).status_code == 302
    assert not Evidence.objects.filter(pk=evidence.pk).exists()


def test_the_remove_link_is_shown_only_to_those_who_may(client, people, county, problem, measure, evidence):
    link = url("evidence_remove", evidence.pk)
    colleague, leader = colleague_and_leader(county)
    for user, shown in ((people.liaison, True), (people.office, True), (colleague, False), (leader, False)):
        html = login(client, user).get(url("problem_detail", problem.pk)).content.decode()
        assert (link in html) is shown, user
    services.progress_add(measure=measure, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    pending(problem, people)
    assert link not in login(client, people.liaison).get(url("problem_detail", problem.pk)).content.decode()


# ---- a removed file counts nowhere -----------------------------------------------------------------------------

def test_a_removed_file_drops_out_of_every_count_and_list(client, people, problem, measure, evidence):
    kept = upload(measure, people.liaison, evidence_upload("现场照片.jpg"), done=True).evidence.get()
    services.evidence_remove(evidence=evidence, by=people.liaison, reason="上传错了文件")

    login(client, people.liaison)
    detail = client.get(url("problem_detail", problem.pk))
    assert detail.context["evidence_count"] == 1
    html = detail.content.decode()
    assert url("evidence_download", kept.pk) in html and url("evidence_download", evidence.pk) not in html
    assert "已上传佐证材料 1 份" in client.get(url("problem_apply", problem.pk)).content.decode()

    round_ = workflow.apply(problem=problem, by=people.liaison, summary="措施已全部完成")
    assert round_.evidence_count == 1
    [queued] = selectors.review_queue(people.office)
    assert queued.evidence_now == 1
    assert [f.pk for m in selectors.problem_measures(problem) for e in m.progress_entries.all()
            for f in e.evidence.all()] == [kept.pk]


def test_with_every_file_removed_the_application_shows_no_evidence(client, people, problem, measure, evidence):
    services.progress_add(measure=measure, by=people.liaison, text="完成", mark_status=MeasureStatus.DONE)
    services.evidence_remove(evidence=evidence, by=people.office, reason="与本问题无关")
    assert "尚未上传佐证材料" in login(client, people.liaison).get(url("problem_apply", problem.pk)).content.decode()
    round_ = workflow.apply(problem=problem, by=people.liaison, summary="措施已全部完成")
    assert round_.evidence_count == 0
    review = login(client, people.office).get(url("problem_review", problem.pk)).content.decode()
    assert "未上传佐证材料" in review


def test_the_office_sees_removed_files_with_who_and_why(people, problem, evidence):
    services.evidence_remove(evidence=evidence, by=people.liaison, reason="上传错了文件")
    [m] = selectors.problem_measures(problem, with_removed=True)
    [entry] = m.progress_entries.all()
    assert list(entry.evidence.all()) == []
    [removed] = entry.removed_evidence
    assert (removed.pk, removed.removed_by, removed.removal_reason) == (evidence.pk, people.liaison, "上传错了文件")
    [m] = selectors.problem_measures(problem)
    assert not hasattr(m.progress_entries.all()[0], "removed_evidence")


def test_the_evidence_links_list_removed_files_with_a_download_for_the_record(people, problem, evidence):
    from django.template.loader import render_to_string

    services.evidence_remove(evidence=evidence, by=people.liaison, reason="上传错了文件")
    [m] = selectors.problem_measures(problem, with_removed=True)
    [entry] = m.progress_entries.all()
    html = render_to_string("ledger/_evidence_links.html", {"files": entry.evidence.all(),
                                                           "removed": entry.removed_evidence})
    assert "<del>整改报告.pdf</del> 已删除（教体局联络员" in html and "：上传错了文件）" in html
    assert url("evidence_download", evidence.pk) in html and url("evidence_remove", evidence.pk) not in html

"""The audit trail in Chinese: every key any service writes has a Chinese label, values read as people write
them ("整改中 → 待核查", 是/否, dates, labels for codes), and the problem page's 操作记录 and the audit log page
show no English key."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.models import Campaign, CampaignStatus, DeadlineMode
from core import audit
from core.audit import ChangeLine, audit_label, change_lines, has_cjk, register_audit_labels
from core.models import AuditEntry, Job
from ledger import lookback, services, workflow
from ledger.excel.importer import apply_ledger
from ledger.models import LookbackResult, Measure, MeasureStatus, Problem, ProgressEntry, RectificationType
from tests.campaigns.xlsx import HEADER as CATEGORY_HEADER
from tests.campaigns.xlsx import upload
from tests.ledger.factories import CampaignFactory
from units import services as unit_services
from units.models import Role, Unit, User, UserRole
from units.roster import apply_roster
from units.validators import uscc_check_char

ENGLISH_KEY = re.compile(r"[A-Za-z_]+\s*[：:]\s*")


def entry(model: type, changes: dict, action: str = AuditEntry.Action.UPDATE) -> AuditEntry:
    return AuditEntry(action=action, content_type=ContentType.objects.get_for_model(model), changes=changes)


def lines(model: type, changes: dict, action: str = AuditEntry.Action.UPDATE) -> dict[str, str]:
    return dict(change_lines(entry(model, changes, action)))


def unlabelled(entries) -> list[tuple[str, str, str]]:
    """(model, key, label) of every recorded key whose label is not Chinese."""
    bad = []
    for e in entries:
        model = e.content_type.model if e.content_type else ""
        for key in e.changes or {}:
            label = audit.audit_label(key, f"{e.content_type.app_label}.{model}" if e.content_type else None)
            if not has_cjk(label) or (not has_cjk(key) and label == key):
                bad.append((model, key, label))
    return sorted(set(bad))


@pytest.fixture
def registry(monkeypatch):
    """The label registry as it is, restored after the test that registers more."""
    monkeypatch.setattr(audit, "_labels", copy.deepcopy(audit._labels))
    monkeypatch.setattr(audit, "_choices", copy.deepcopy(audit._choices))


# ---- the registry ----------------------------------------------------------------------------------------------

def test_a_key_is_labelled_by_its_field_then_the_model_table_then_the_defaults(db):
    assert audit_label("rectification_type", "ledger.problem") == "整改类型"  # the field's verbose name
    assert audit_label("rectification_type", Problem) == "整改类型"  # a class works as well as its label
    assert audit_label("action", "ledger.problem") == "操作"  # not a field: the model's table
    assert audit_label("problem", Measure) == "所属问题"  # a field without a Chinese verbose name
    assert audit_label("files", ProgressEntry) == "佐证材料"
    assert audit_label("roles", User) == "角色"
    assert audit_label("number") == "编号" and audit_label("co_units") == "配合单位"  # project-wide
    assert audit_label("回头看", Problem) == "回头看"  # a key already in Chinese is its own label
    assert audit_label("no_such_key") == "no_such_key"


def test_apps_register_labels_and_codes_for_their_own_keys(db, registry):
    register_audit_labels("core.job", {"shade": "颜色"}, choices={"shade": [("red", "红"), ("blue", "蓝")]})
    register_audit_labels(None, {"flavour": "口味"})
    assert audit_label("shade", "core.job") == "颜色" and audit_label("shade") == "shade"
    assert audit_label("flavour", "units.unit") == "口味"
    assert lines(Job, {"shade": ["red", "blue"], "flavour": ["甜", ""]}) == {"颜色": "红 → 蓝", "口味": "甜 → （空）"}
    # a registered label wins over the field's verbose name
    register_audit_labels(Problem, {"deadline": "问题整改时限"})
    assert audit_label("deadline", "ledger.problem") == "问题整改时限"


# ---- the rendering ---------------------------------------------------------------------------------------------

def test_an_update_reads_old_arrow_new_with_labels_for_codes_dates_and_booleans(db):
    assert lines(Problem, {
        "status": ["整改中", "待核查"],
        "rectification_type": [RectificationType.TIME_LIMITED, RectificationType.LONG_TERM],
        "deadline": ["", "2026-05-01"],
        "co_units": [["县财政局"], ["县财政局", "县审计局"]],
        "updated": ["2026-05-01T02:00:00+00:00", "2026-05-02T10:30:00+08:00"],
    }) == {
        "状态": "整改中 → 待核查",
        "整改类型": "限期整改 → 长期坚持",
        "整改时限": "（空） → 2026-05-01",
        "配合单位": "县财政局 → 县财政局、县审计局",
        "updated": "2026-05-01 10:00 → 2026-05-02 10:30",  # local time, Asia/Shanghai
    }
    measure_codes = {"status": [MeasureStatus.NOT_STARTED, MeasureStatus.DONE], "is_long_term": [False, True]}
    assert lines(Measure, measure_codes) == {"状态": "未启动 → 已完成", "长期坚持": "否 → 是"}
    assert lines(User, {"roles": [["liaison"], ["leader", "liaison"]]}) == {"角色": "联络员 → 领导、联络员"}


def test_a_creation_shows_plain_values_and_a_list_of_two_is_not_a_pair(db):
    create = AuditEntry.Action.CREATE
    assert lines(ProgressEntry, {"measure": "措施1", "files": ["a.pdf", "b.pdf"]}, create) == {
        "整改措施": "措施1", "佐证材料": "a.pdf、b.pdf",
    }
    assert lines(User, {"roles": ["admin", "office"], "overseen_units": []}, create) == {
        "角色": "系统管理员、作风办", "分管单位": "（空）",
    }
    # a transition records a pair too
    assert lines(Problem, {"status": ["", "待分派"], "action": "录入"}, AuditEntry.Action.TRANSITION) == {
        "状态": "（空） → 待分派", "操作": "录入",
    }


def test_long_text_is_cut_and_kept_whole_for_the_tooltip(db):
    long = "会议多、文件多，" * 30
    [line] = change_lines(entry(Measure, {"content": [long, "精简会议"]}))
    assert isinstance(line, ChangeLine) and line.label == "整改措施"
    old, new = line.text.split(" → ")
    assert old.endswith("…") and len(old) <= audit.SHORT_TEXT and new == "精简会议"
    assert line.shortened and line.full == f"{long} → 精简会议"
    assert not change_lines(entry(Measure, {"content": ["短", "长"]}))[0].shortened


# ---- every key the services write ------------------------------------------------------------------------------

def uscc(n: int) -> str:
    first17 = f"11419901{n:09d}"
    return first17 + uscc_check_char(first17)


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def test_every_key_the_services_write_has_a_chinese_label(people, county, tmp_path):
    admin, office, liaison = people.admin, people.office, people.liaison
    # units and users
    unit = unit_services.unit_create(by=admin, code="SJJ", name="县审计局", parent=county.root, ip="10.0.0.1")
    unit_services.unit_update(unit=unit, by=admin, name="县审计局（新）", short_name="审计局", kind="government",
                              kind_label="政府工作部门", sort_order=9, parent=county.education)
    unit_services.unit_set_active(unit=unit, active=False, by=admin)
    user, _ = unit_services.user_create(by=admin, username="u9", full_name="赵六", unit=county.finance,
                                        roles=[Role.LIAISON, Role.LEADER], overseen_units=[county.town])
    unit_services.user_update(user=user, by=admin, full_name="赵六六", phone="13900000009", email="z@sfx.gov.cn",
                              unit=county.education, roles=[Role.OFFICE], overseen_units=[county.village])
    unit_services.user_reset_password(user=user, by=admin)
    # campaigns: settings, phases, sources, catalogue, calendar
    campaign = campaign_services.campaign_create(
        by=office, name="深化机关作风整顿", code="ZF2026", jurisdiction=[county.root],
        start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 12, 31),
    )
    campaign_services.campaign_update(
        campaign=campaign, by=office, name="深化机关作风整顿年", status=CampaignStatus.ACTIVE,
        deadline_mode=DeadlineMode.WORKING, yellow_window_days=5, description="全县",
        end_date=dt.date(2026, 11, 30), jurisdiction=[county.root, county.town],
        phases=[{"kind": "investigation", "name": "集中排查", "deadline": dt.date(2026, 3, 13)}],
    )
    campaign_services.phases_set(campaign=campaign, by=office, phases=[
        {"kind": "rectification", "name": "集中整改", "deadline": dt.date(2026, 6, 30)},
    ])
    campaign_services.sources_set(campaign=campaign, by=office, rows=[{"name": "自查自纠"}, {"name": "群众反映"}])
    parent = campaign_services.category_create(campaign=campaign, by=office, code="1", name="政治责任方面")
    child = campaign_services.category_create(campaign=campaign, by=office, code="1.01", name="学用两张皮",
                                              parent=parent)
    campaign_services.category_update(category=child, by=office, name="学用“两张皮”", sort_order=5)
    campaign_services.category_set_active(category=child, by=office, active=False)
    report = campaign_services.category_import(campaign=campaign, by=office, file=upload([
        CATEGORY_HEADER, ("1", "政治责任方面（修订）", ""), ("1.01", "学用两张皮", ""), ("2", "担当尽责方面", ""),
    ]))
    assert report.applied
    other = CampaignFactory(code="ZF2030")
    campaign_services.categories_copy(source_campaign=campaign, target_campaign=other, by=office)
    override = campaign_services.calendar_override_set(by=office, date=dt.date(2026, 5, 9), is_workday=True,
                                                       note="调休")
    campaign_services.calendar_override_set(by=office, date=dt.date(2026, 5, 9), is_workday=False, note="取消调休")
    campaign_services.calendar_override_delete(override=override, by=office)
    # the ledger: a problem, its measures and progress, every transition
    category = campaign.categories.get(code="2")
    p = services.problem_create(
        campaign=campaign, by=office, summary="窗口推诿扯皮", lead_unit=county.education, co_units=[county.finance],
        description="群众办事多次往返", source=campaign.sources.get(name="群众反映"), category=category,
        discovered_on=dt.date(2026, 3, 5), found_by=county.office_unit, responsible_leader="局长",
        responsible_person="李佳", rectification_type=RectificationType.TIME_LIMITED, deadline=dt.date(2026, 6, 30),
    )
    services.problem_update(problem=p, by=office, summary="窗口服务推诿扯皮", co_units=[county.finance, county.town],
                            rectification_type=RectificationType.LONG_TERM, deadline=dt.date(2026, 9, 30),
                            responsible_person="王强", discovered_on=dt.date(2026, 3, 6), description="多次往返")
    workflow.assign(problem=p, by=office)
    workflow.set_exemplar(problem=p, by=office, kind="negative", note="推诿扯皮的反面典型")
    workflow.set_exemplar(problem=p, by=office, kind="", note="")
    record = services.accountability_add(problem=p, by=office, unit=county.education, person="张三", post="科长",
                                         form="reminder", decided_on=dt.date(2026, 3, 20), decided_by="县纪委监委",
                                         note="首次发现")
    services.accountability_delete(record=record, by=office)
    m = services.measure_create(problem=p, by=liaison, content="建立首问负责制", unit=county.education,
                                deadline=dt.date(2026, 6, 1))
    services.measure_update(measure=m, by=liaison, content="建立首问负责制和限时办结制", responsible_person="张三",
                            is_long_term=True, deadline=None)
    workflow.measure_set_status(measure=m, by=liaison, status=MeasureStatus.IN_PROGRESS)
    services.progress_add(measure=m, by=liaison, text="制度已印发", files=[pdf("制度.pdf"), pdf("照片.pdf")],
                          mark_status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=liaison, summary="措施已完成")
    workflow.return_(problem=p, by=office, opinion="请补充照片")
    services.progress_add(measure=m, by=liaison, text="已补充照片", files=[pdf("补充.pdf")])
    workflow.apply(problem=p, by=liaison, summary="已补充")
    workflow.approve(problem=p, by=office, opinion="同意")
    [check] = lookback.lookback_draw(campaign=campaign, by=office, batch="第一批")
    lookback.lookback_record(check=check, by=office, result=LookbackResult.RELAPSED, finding="又出现推诿",
                             deadline=dt.date.today() + dt.timedelta(days=30))  # noqa: DTZ011
    q = services.problem_create(campaign=campaign, by=office, summary="重复录入", lead_unit=county.finance)
    workflow.void(problem=q, by=office, reason="重复录入")

    entries = list(AuditEntry.objects.select_related("content_type"))
    written = {(e.content_type.model if e.content_type else "", k) for e in entries for k in e.changes or {}}
    # the scenario reaches what it means to: models and keys of every kind of service
    assert {"unit", "user", "campaign", "category", "calendaroverride", "problem", "measure", "progressentry"} <= {
        model for model, _ in written
    }
    assert {("problem", "exemplar"), ("problem", "exemplar_note"), ("accountability", "decided_by"),
            ("accountability", "form")} <= written
    assert {("problem", "status"), ("problem", "action"), ("problem", "co_units"), ("measure", "problem"),
            ("progressentry", "files"), ("campaign", "phases"), ("user", "roles"), ("unit", "parent")} <= written
    assert unlabelled(entries) == []
    rendered = [text for e in entries for _, text in change_lines(e)]
    assert "限期整改 → 长期坚持" in rendered and "整改中 → 待核查" in rendered and "否 → 是" in rendered


def test_every_key_the_imports_write_has_a_chinese_label(db, shared_data, tmp_path):
    assert apply_roster("units", shared_data / "units_roster.xlsx", by=None).ok
    assert apply_roster("users", shared_data / "users_roster.xlsx", by=None).ok
    office = User.objects.with_role(Role.OFFICE).order_by("id").first()
    admin, _ = unit_services.user_create(by=None, username="admin9", full_name="管理员", unit=office.unit,
                                         roles=[Role.ADMIN])
    # a later unit roster renames, retypes and moves; a later user roster changes units, roles and 分管单位
    root, a, b = uscc(1), uscc(2), uscc(3)
    header = ["序号", "单位编码", "单位名称", "单位简称", "单位类型", "上级单位编码", "排序号"]
    assert apply_roster("units", xlsx(tmp_path / "u1.xlsx", [header, [1, root, "示范区", "示范区", "其他", None, 1],
                                                              [2, a, "区委办", "区委办", "党委部门", root, 2],
                                                              [3, b, "区政府办", "政府办", "政府部门", root, 3]]),
                        by=admin).ok
    assert apply_roster("units", xlsx(tmp_path / "u2.xlsx", [header, [1, root, "示范区", "示范区", "其他", None, 1],
                                                              [2, a, "区委办公室", "区委办", "政府部门", b, 7],
                                                              [3, b, "区政府办", "政府办", "政府部门", root, 3]]),
                        by=admin).ok
    user_header = ["序号", "姓名", "手机号", "邮箱", "所属单位编码", "角色", "分管单位编码"]
    assert apply_roster("users", xlsx(tmp_path / "p1.xlsx", [user_header,
                                                              [1, "周七", "13800000077", None, a, "联络员", None]]),
                        by=admin).ok
    assert apply_roster("users", xlsx(tmp_path / "p2.xlsx", [user_header,
                                                              [1, "周七", "13800000077", "z7@sfx.gov.cn", b,
                                                               "领导、联络员", a]]), by=admin).ok
    # the shared ledger, then the catalogue, then the ledger again with cells changed
    report = apply_ledger(shared_data / "problem_ledger.xlsx", campaign="ZF2022", by=office)
    assert report.applied, report.errors
    campaign = Campaign.objects.get(code="ZF2022")
    assert campaign_services.category_import(campaign=campaign, file=shared_data / "categories.xlsx", by=office).ok
    wb = openpyxl.load_workbook(shared_data / "problem_ledger.xlsx")
    ws = wb.active
    ws["M5"] = "台账已建立，收录诉求52件"
    ws["L6"] = "2022年7月31日"
    ws["N5"] = "已完成"
    ws["H11"] = "县财政局、县审计局"
    wb.save(tmp_path / "edited.xlsx")
    assert apply_ledger(tmp_path / "edited.xlsx", campaign="ZF2022", by=office).applied

    entries = list(AuditEntry.objects.select_related("content_type"))
    written = {(e.content_type.model if e.content_type else "", k) for e in entries for k in e.changes or {}}
    assert {("unit", "kind"), ("unit", "parent"), ("user", "overseen_units"), ("problem", "number"),
            ("progressentry", "measure"), ("measure", "deadline"), ("problem", "co_units")} <= written
    assert unlabelled(entries) == []
    # codes recorded by the roster read as their labels
    kind_change = AuditEntry.objects.get(content_type__model="unit", object_id=str(Unit.objects.get(code=a).pk),
                                         action=AuditEntry.Action.UPDATE)
    assert dict(change_lines(kind_change))["单位类型"] == "党委部门 → 政府部门"
    role_change = AuditEntry.objects.filter(content_type__model="user", action=AuditEntry.Action.UPDATE,
                                            changes__has_key="roles").get()
    assert dict(change_lines(role_change))["角色"] == "联络员 → 领导、联络员"
    assert UserRole.objects.filter(user__username="13800000077", role=Role.LEADER).exists()


# ---- the pages -------------------------------------------------------------------------------------------------

def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin: html.index(end, begin)]


@pytest.fixture
def applied(people, county) -> Problem:
    """A problem edited, given a measure and progress, and applied for sign-off, partly from a known address."""
    campaign = CampaignFactory(code="ZF2022")
    p = services.problem_create(campaign=campaign, by=people.office, summary="窗口推诿扯皮", lead_unit=county.education,
                                deadline=dt.date(2026, 6, 30), rectification_type=RectificationType.TIME_LIMITED)
    services.problem_update(problem=p, by=people.office, rectification_type=RectificationType.LONG_TERM,
                            co_units=[county.finance], ip="10.1.2.3", note="根据督查反馈调整")
    workflow.assign(problem=p, by=people.office)
    m = services.measure_create(problem=p, by=people.liaison, content="建立首问负责制", unit=county.education,
                                deadline=dt.date(2026, 6, 1))
    services.progress_add(measure=m, by=people.liaison, text="制度已印发", files=[pdf("制度.pdf")],
                          mark_status=MeasureStatus.DONE)
    workflow.apply(problem=p, by=people.liaison, summary="措施已全部完成")
    return p


def test_problem_page_history_is_in_chinese(client, people, applied):
    response = login(client, people.office).get(reverse("ledger:problem_detail", args=[applied.pk]))
    assert response.status_code == 200
    history = section(response.content.decode(), 'data-testid="history"', "</ul>")
    assert "整改中 → 待核查" in history and "状态" in history and "申请销号" in history
    assert "整改类型：限期整改 → 长期坚持" in history and "配合单位：（空） → 县财政局" in history
    assert "说明：根据督查反馈调整" in history and "来源地址：10.1.2.3" in history
    assert "编号：ZF2022-0001" in history
    assert not ENGLISH_KEY.search(history), ENGLISH_KEY.findall(history)
    assert "、待核查" not in history


def test_audit_log_page_is_in_chinese(client, people, applied):
    response = login(client, people.admin).get(reverse("core:audit_list"))
    assert response.status_code == 200
    table = section(response.content.decode(), 'data-testid="audit-table"', "</table>")
    assert "整改中 → 待核查" in table
    assert "整改措施</span>：建立首问负责制" in table  # the progress entry names its measure
    assert "佐证材料</span>：制度.pdf" in table and "所属问题</span>：ZF2022-0001" in table
    assert "说明</span>：根据督查反馈调整" in table
    assert not ENGLISH_KEY.search(table), ENGLISH_KEY.findall(table)


def test_an_import_entry_shows_its_note_on_both_pages(client, db, shared_data):
    # the ledger importer names the file and the row in each entry's note
    assert apply_roster("units", shared_data / "units_roster.xlsx", by=None).ok
    assert apply_roster("users", shared_data / "users_roster.xlsx", by=None).ok
    office = User.objects.with_role(Role.OFFICE).order_by("id").first()
    User.objects.filter(pk=office.pk).update(must_change_password=False)  # past the first-login password change
    admin, _ = unit_services.user_create(by=None, username="admin9", full_name="管理员", unit=office.unit,
                                         roles=[Role.ADMIN], password="Passw0rd!9")
    assert apply_ledger(shared_data / "problem_ledger.xlsx", campaign="ZF2022", by=office).applied
    p = Problem.objects.get(campaign__code="ZF2022", seq=2)

    page = login(client, office).get(reverse("ledger:problem_detail", args=[p.pk])).content.decode()
    history = section(page, 'data-testid="history"', "</ul>")
    assert "说明：台账导入：「problem_ledger.xlsx」第5行" in history, history
    assert "编号：ZF2022-0002" in history
    assert not ENGLISH_KEY.search(history), ENGLISH_KEY.findall(history)

    page = login(client, admin).get(reverse("core:audit_list"), {"action": "import"}).content.decode()
    table = section(page, 'data-testid="audit-table"', "</table>")
    assert "说明</span>：台账导入：「problem_ledger.xlsx」第5行" in table
    assert not ENGLISH_KEY.search(table), ENGLISH_KEY.findall(table)

"""Who may open which page: every URL of the project, every kind of user, GET and POST.

`RULES` holds one entry per URL name. The first test walks the URL resolver and fails for any URL without an entry
(and for entries whose URL is gone), so a new view cannot ship without saying who may use it. The other tests run
each entry for every actor:

- anonymous and deactivated users (logged in, then deactivated) are sent to the login page;
- an object out of the user's scope is a 404, the same answer as for an object that does not exist;
- a role that may not use a page gets 403 (the ledger's object pages look the object up first, so a user without
  any role, who sees no problem at all, gets 404 there);
- allowed users get 200 on GET, and on POST (an empty or invalid form, so nothing is written) either a redirect or
  the form again with its errors.

A refused request must leave the database as it was. A server error fails the test: the test client re-raises
the view's exception.

A new URL gets an entry `"namespace:name": Rule(args=..., get=..., post=..., data=..., outside=...)`: `args` picks
its arguments from the actor's `Subject` (a unit, a problem in some state, a measure, an evidence file, a 回头看
check) or from the `World` (the campaign, a category, an import job); `get` and `post` are built with `each()`
(or `admin_only()`, `office_only()`, `managers()`), giving one outcome per actor; `outside` says what an actor gets
for an object out of their reach (`OUT_OF_SCOPE` for unit-scoped objects, or `outside_args` naming an object of
another kind or campaign).

The data (the county of tests/conftest.py, a campaign, problems in every state, evidence, import jobs, a 回头看
check) is built once per module in a transaction that is rolled back at the end; each test runs in a savepoint
inside it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import CalendarOverride, Campaign, CampaignStatus, Category
from core.jobs import job_import_create, job_preview
from core.models import AuditEntry, Job
from ledger import lookback, services, workflow
from ledger.excel import LEDGER_KIND
from ledger.models import Accountability, AccountabilityForm, Evidence, LookbackCheck, Measure, MeasureStatus, Problem
from notifications import crypto
from notifications.models import Delivery, Notification, Robot
from reports.models import ReportKind, ReportRun, ReportStatus
from reports.services import report_build
from supervision.models import OrderLevel, SupervisionOrder
from supervision.orders import order_issue
from tests.conftest import County, People
from tests.factories import UnitFactory, UserFactory
from tests.ledger.factories import CampaignFactory, CategoryFactory, make_measure, make_problem
from units.models import Role, RosterKind, Unit, UnitKind, User

TODAY = timezone.localdate()
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# ---- the URLs --------------------------------------------------------------------------------------------------

# Framework URLs that are not the project's pages; only checked if present.
FRAMEWORK_URL_NAMES = {"jsi18n", "javascript-catalog", "set_language"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    converters: tuple[str, ...]


def walk(resolver: URLResolver, prefix: str = "", namespace: str = "",
         converters: tuple[str, ...] = ()) -> Iterator[Route]:
    """Every URL pattern below `resolver`, through includes, with its full route, namespaced name and converters."""
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        found = converters + tuple(type(c).__name__ for c in getattr(p.pattern, "converters", {}).values())
        if isinstance(p, URLResolver):
            ns = ":".join(n for n in (namespace, p.namespace or "") if n)
            yield from walk(p, route, ns, found)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield Route(route, name, found)


def project_routes() -> list[Route]:
    static = tuple(u.lstrip("/") for u in (settings.STATIC_URL, settings.MEDIA_URL) if u)
    return [
        r for r in walk(get_resolver())
        if not r.route.startswith("django-admin/")
        and not (static and r.route.startswith(static))
        and (r.name or "").split(":")[-1] not in FRAMEWORK_URL_NAMES
    ]


# ---- the data ---------------------------------------------------------------------------------------------------

@dataclass
class Subject:
    """One unit's corner of the county, as the URLs' arguments name it."""

    unit: Unit
    member: User  # a user of the unit, the admin's target on the user pages
    problem: Problem  # 整改中, led by the unit, with a measure, a progress entry and an evidence file
    measure: Measure
    evidence: Evidence
    draft: Problem  # 待分派
    pending: Problem  # 待核查
    closed: Problem  # 已销号, drawn for 回头看
    check: LookbackCheck
    order: SupervisionOrder | None = None  # a 督办单 on `problem`
    record: Accountability | None = None  # a 追责问责 record on `problem`


@dataclass
class World:
    county: County
    people: People
    gone: User  # office and admin; logged in, then deactivated
    campaign: Campaign
    category: Category
    foreign_category: Category  # a category of another campaign
    override: CalendarOverride
    ledger_job: Job
    roster_job: Job
    users_job: Job
    subjects: dict[str, Subject] = field(default_factory=dict)
    # A disabled robot (an allowed 测试发送 is refused with a message, no network), the office's notification, a
    # sent delivery (a resend of it is refused with a message: nothing written).
    robot: Robot | None = None
    notice: Notification | None = None
    delivery: Delivery | None = None
    # A built 月调度 of the campaign, and one of another campaign whose jurisdiction is 县教育体育局 only (the
    # leader, of 县财政局 and 城关街道, is outside it).
    report: ReportRun | None = None
    foreign_report: ReportRun | None = None


def _build_county() -> County:
    # The same county as the `county` fixture of tests/conftest.py.
    root = UnitFactory(code="ROOT", name="示范县", short_name="示范县", kind=UnitKind.OTHER)
    office_unit = UnitFactory(code="ZFB", name="县作风建设工作领导小组办公室", short_name="作风办", parent=root)
    education = UnitFactory(code="JTJ", name="县教育体育局", short_name="教体局", parent=root)
    school = UnitFactory(
        code="YZ", name="县第一高级中学", short_name="一中", parent=education, kind=UnitKind.INSTITUTION
    )
    finance = UnitFactory(code="CZJ", name="县财政局", short_name="财政局", parent=root)
    town = UnitFactory(code="CGJD", name="城关街道", short_name="城关街道", parent=root, kind=UnitKind.TOWNSHIP)
    village = UnitFactory(
        code="HPSQ", name="和平社区居委会", short_name="和平社区", parent=town, kind=UnitKind.TOWNSHIP
    )
    return County(root, office_unit, education, school, finance, town, village)


def _build_people(county: County) -> People:
    # The same people as the `people` fixture of tests/conftest.py.
    return People(
        admin=UserFactory(username="admin1", full_name="管理员", unit=county.office_unit, roles=[Role.ADMIN]),
        office=UserFactory(username="office1", full_name="作风办干部", unit=county.office_unit, roles=[Role.OFFICE]),
        liaison=UserFactory(username="liaison1", full_name="教体局联络员", unit=county.education, roles=[Role.LIAISON]),
        sibling_liaison=UserFactory(
            username="liaison2", full_name="财政局联络员", unit=county.finance, roles=[Role.LIAISON]
        ),
        leader=UserFactory(
            username="leader1", full_name="分管领导", unit=county.finance, roles=[Role.LEADER], overseen=[county.town]
        ),
        outsider=UserFactory(username="outsider", full_name="无角色用户", unit=county.village, roles=[]),
    )


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def _xlsx(rows: list[list[Any]], name: str) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/octet-stream")


def _build_subject(campaign: Campaign, unit: Unit, *, liaison: User, office: User, batch: str) -> Subject:
    deadline = TODAY + dt.timedelta(days=30)

    def in_progress(summary: str) -> tuple[Problem, Measure]:
        problem = make_problem(campaign=campaign, by=office, lead_unit=unit, summary=summary, deadline=deadline)
        workflow.assign(problem=problem, by=office)
        return problem, make_measure(problem=problem, unit=unit, content=f"{summary}的整改措施")

    problem, measure = in_progress(f"{unit.short_name}窗口推诿扯皮")
    entry = services.progress_add(measure=measure, by=liaison, text="制度已印发", files=[_pdf(f"{unit.code}.pdf")])
    draft = make_problem(campaign=campaign, by=office, lead_unit=unit, summary=f"{unit.short_name}尚未分派的问题",
                         deadline=deadline)
    pending, m = in_progress(f"{unit.short_name}已申请销号的问题")
    services.progress_add(measure=m, by=liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=pending, by=liaison, summary="措施已全部完成")
    closed, m = in_progress(f"{unit.short_name}已销号的问题")
    services.progress_add(measure=m, by=liaison, text="完成", mark_status=MeasureStatus.DONE)
    workflow.apply(problem=closed, by=liaison, summary="措施已全部完成")
    workflow.approve(problem=closed, by=office, opinion="同意")
    [check] = lookback.lookback_draw(campaign=campaign, by=office, batch=batch, unit=unit)
    member = UserFactory(full_name=f"{unit.short_name}干部", unit=unit, roles=[])
    return Subject(unit, member, problem, measure, entry.evidence.get(), draft, pending, closed, check)


def build_world() -> World:
    county = _build_county()
    people = _build_people(county)
    gone = UserFactory(username="gone", full_name="已停用的作风办干部", unit=county.office_unit,
                       roles=[Role.OFFICE, Role.ADMIN])
    # 城关街道 has a liaison too, so its problems can go through the whole workflow; the leader oversees it.
    town_liaison = UserFactory(username="liaison3", full_name="城关街道联络员", unit=county.town, roles=[Role.LIAISON])
    campaign = CampaignFactory(code="ZF2022", status=CampaignStatus.ACTIVE)
    earlier = CampaignFactory(code="ZF2021", status=CampaignStatus.ENDED)
    category = CategoryFactory(campaign=campaign, code="1", name="政治责任方面")
    foreign_category = CategoryFactory(campaign=earlier, code="1", name="担当尽责方面")
    override = campaign_services.calendar_override_set(by=people.office, date=dt.date(2027, 1, 4), is_workday=False)
    subjects = {
        "edu": _build_subject(campaign, county.education, liaison=people.liaison, office=people.office,
                              batch="第一批"),
        "town": _build_subject(campaign, county.town, liaison=town_liaison, office=people.office, batch="第二批"),
    }
    for subject in subjects.values():
        subject.order = order_issue(problem=subject.problem, by=people.office, level=OrderLevel.SUPERVISE,
                                    requirements="限期整改到位")
        subject.record = services.accountability_add(
            problem=subject.problem, by=people.office, unit=subject.unit, person="张三", post="科长",
            form=AccountabilityForm.REMINDER, decided_on=TODAY, decided_by="县纪委监委")
    # Import jobs whose previews found errors: confirming them writes nothing.
    ledger_job = job_import_create(kind=LEDGER_KIND, upload=_xlsx([["不是台账的表头"]], "台账.xlsx"),
                                   by=people.office, options={"campaign": campaign.code, "campaign_name": "",
                                                              "user_id": people.office.pk})
    job_preview(job=ledger_job)
    roster_job = job_import_create(kind=RosterKind.UNITS, upload=_xlsx([["不是名册的表头"]], "单位名册.xlsx"),
                                   by=people.admin)
    job_preview(job=roster_job)
    users_job = job_import_create(kind=RosterKind.USERS, upload=_xlsx([["不是名册的表头"]], "人员名册.xlsx"),
                                  by=people.admin)
    job_preview(job=users_job)
    for job in (ledger_job, roster_job, users_job):
        job.refresh_from_db()
        assert not job.can_apply, job.report
    robot = Robot.objects.create(
        kind="wecom", name="教体局整改工作群", unit=county.education, is_enabled=False, disabled_reason="测试用机器人",
        webhook_encrypted=crypto.encrypt("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=permissions"),
    )
    notice = Notification.objects.create(recipient=people.office, group="event", title="通知", url="/ledger/",
                                         items=[{"text": "通知", "url": "/ledger/", "level": 0}])
    delivery = Delivery.objects.create(key="perm-sent", channel="email", recipient=people.liaison, batch="b",
                                       subject="已发送的消息", body="正文", status="sent")
    campaign.jurisdiction.set([county.root])
    earlier.jurisdiction.set([county.education])
    month = f"{TODAY.year:04d}-{TODAY.month:02d}"
    report = report_build(campaign=campaign, kind=ReportKind.MONTHLY, period_label=month, by=people.office,
                          inline=True)
    foreign_report = report_build(campaign=earlier, kind=ReportKind.MONTHLY, period_label=month, by=people.office,
                                  inline=True)
    assert report.status == foreign_report.status == ReportStatus.READY
    return World(county, people, gone, campaign, category, foreign_category, override, ledger_job, roster_job,
                 users_job, subjects, robot=robot, notice=notice, delivery=delivery, report=report,
                 foreign_report=foreign_report)


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_root(settings: Any, media_root: Path) -> None:
    """The module's evidence and import files live in one folder for all its tests."""
    settings.MEDIA_ROOT = str(media_root)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, media_root: Path) -> Iterator[World]:
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media_root)), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


AUDIT = AuditEntry._meta.label


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the project's own tables (read with plain SQL: this runs twice for every refused request)."""
    tables = {}
    with connection.cursor() as cursor:
        for label in ("core", "units", "notifications", "campaigns", "ledger", "supervision", "reports"):
            for model in apps.get_app_config(label).get_models(include_auto_created=True):
                table = connection.ops.quote_name(model._meta.db_table)
                pk = connection.ops.quote_name(model._meta.pk.column)
                cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # names from the models, not from input
                tables[model._meta.label] = cursor.fetchall()
    return tables


# ---- the actors -------------------------------------------------------------------------------------------------

ROLES = ("outsider", "sibling_liaison", "liaison", "leader", "office", "admin")
ACTORS = ("anonymous", "deactivated", *ROLES)
# Whose corner of the county each actor's URLs name: the leader reaches 城关街道 through 分管单位; the sibling
# liaison (县财政局) is given 县教育体育局's objects, which are outside their scope.
HOME = {"leader": "town"}
# Objects outside a scoped user's reach (the out-of-scope cases).
AWAY = {"liaison": "town", "leader": "edu"}


def log_in(client: Any, world: World, actor: str) -> None:
    if actor == "anonymous":
        return
    if actor == "deactivated":
        User.objects.filter(pk=world.gone.pk).update(is_active=True)
        client.force_login(world.gone, backend=MODEL_BACKEND)
        User.objects.filter(pk=world.gone.pk).update(is_active=False)
        return
    client.force_login(getattr(world.people, actor), backend=MODEL_BACKEND)


# ---- the outcomes -----------------------------------------------------------------------------------------------

OK = 200
LOGIN = "sent to the login page"
LOGGED_OUT = "logged out and sent to the login page"
REDIRECT = "redirected (not to the login page)"
FORM = "200 with the form's errors"
FILE = "200 with an attachment"
REFUSED = (LOGIN, 403, 404, 405)

Outcome = int | str
Outcomes = dict[str, Outcome]
Builder = Callable[[World, Subject], list[Any]]
DataBuilder = Callable[[World, Subject], dict[str, Any]]


def each(outcome: Outcome, **by_actor: Outcome) -> Outcomes:
    """`outcome` for every signed-in actor, then `by_actor`; anonymous and deactivated users go to log in."""
    unknown = set(by_actor) - set(ACTORS)
    assert not unknown, f"unknown actors {unknown}"
    return {"anonymous": LOGIN, "deactivated": LOGIN, **dict.fromkeys(ROLES, outcome), **by_actor}


def managers(outcome: Outcome) -> Outcomes:
    """The office and admins (the campaigns' settings)."""
    return each(403, office=outcome, admin=outcome)


def admin_only(outcome: Outcome) -> Outcomes:
    return each(403, admin=outcome)


def office_only(outcome: Outcome) -> Outcomes:
    return each(403, office=outcome)


# The ledger's object pages look the object up before anything else: users who cannot see it get 404.
HIDDEN = {"outsider": 404, "sibling_liaison": 404}
# ... and so do the in-scope liaison and the leader, given an object of another corner of the county.
OUT_OF_SCOPE = {"liaison": 404, "leader": 404}
ANY_ROLE_GET = each(OK, outsider=403)
NOT_GET = each(405)
NOT_POST = each(405)


def no_args(w: World, s: Subject) -> list[Any]:
    return []


def no_data(w: World, s: Subject) -> dict[str, Any]:
    # What a browser sends for a form left empty: never an empty body, the CSRF token at least. (Views build
    # their forms from `request.POST or None`; an empty body would show the unbound form again.)
    return {"csrfmiddlewaretoken": "x"}


@dataclass(frozen=True)
class Rule:
    """Who may use one URL.

    `args` builds the URL's arguments from the world and the actor's subject (see HOME). `get` and `post` give the
    outcome per actor. `data` is what is posted (empty, or invalid, so an allowed POST writes nothing). `outside`
    gives the outcome per actor when the arguments, built by `outside_args` (default: `args` on the actor's AWAY
    subject), name an object the actor may not reach through this URL.
    """

    get: Outcomes
    post: Outcomes
    args: Builder = no_args
    data: DataBuilder = no_data
    outside: Outcomes = field(default_factory=dict)
    outside_args: Builder | None = None


def unit(w: World, s: Subject) -> list[Any]:
    return [s.unit.pk]


def member(w: World, s: Subject) -> list[Any]:
    return [s.member.pk]


def campaign(w: World, s: Subject) -> list[Any]:
    return [w.campaign.pk]


def category(w: World, s: Subject) -> list[Any]:
    return [w.campaign.pk, w.category.pk]


def foreign_category(w: World, s: Subject) -> list[Any]:
    return [w.campaign.pk, w.foreign_category.pk]


def problem(w: World, s: Subject) -> list[Any]:
    return [s.problem.pk]


def pending(w: World, s: Subject) -> list[Any]:
    return [s.pending.pk]


def closed(w: World, s: Subject) -> list[Any]:
    return [s.closed.pk]


def measure(w: World, s: Subject) -> list[Any]:
    return [s.measure.pk]


def evidence(w: World, s: Subject) -> list[Any]:
    return [s.evidence.pk]


def check(w: World, s: Subject) -> list[Any]:
    return [s.check.pk]


def order(w: World, s: Subject) -> list[Any]:
    assert s.order is not None
    return [s.order.pk]


def record(w: World, s: Subject) -> list[Any]:
    assert s.record is not None
    return [s.record.pk]


def report(w: World, s: Subject) -> list[Any]:
    assert w.report is not None
    return [w.report.pk]


def foreign_report(w: World, s: Subject) -> list[Any]:
    assert w.foreign_report is not None
    return [w.foreign_report.pk]


def report_file(w: World, s: Subject) -> list[Any]:
    return [*report(w, s), "file"]


def foreign_report_file(w: World, s: Subject) -> list[Any]:
    return [*foreign_report(w, s), "file"]


def dashboard_table(w: World, s: Subject) -> list[Any]:
    return ["units"]


def robot(w: World, s: Subject) -> list[Any]:
    assert w.robot is not None
    return [w.robot.pk]


def notice(w: World, s: Subject) -> list[Any]:
    assert w.notice is not None
    return [w.notice.pk]


def delivery(w: World, s: Subject) -> list[Any]:
    assert w.delivery is not None
    return [w.delivery.pk]


def ledger_job(w: World, s: Subject) -> list[Any]:
    return [w.ledger_job.pk]


def roster_job(w: World, s: Subject) -> list[Any]:
    return [w.roster_job.pk]


def users_job(w: World, s: Subject) -> list[Any]:
    return [w.users_job.pk]


RULES: dict[str, Rule] = {
    # ---- home and accounts
    "home": Rule(get=each(OK), post=each(OK)),
    "login": Rule(
        get=each(REDIRECT, anonymous=OK, deactivated=OK),  # signed-in users are sent on to the home page
        post=each(REDIRECT, anonymous=FORM, deactivated=FORM),
    ),
    # logging out writes its audit entry
    "logout": Rule(get=each(405, anonymous=405, deactivated=405), post=each(LOGGED_OUT, anonymous=LOGGED_OUT,
                                                                           deactivated=LOGGED_OUT)),
    "password_change": Rule(get=each(OK), post=each(FORM)),
    "password_change_done": Rule(get=each(OK), post=each(OK)),
    # ---- units: every role reads its own part of the tree; the rest is the admin's
    "units:unit_tree": Rule(get=ANY_ROLE_GET, post=NOT_POST),
    "units:unit_detail": Rule(
        args=unit, get=each(OK, outsider=403, sibling_liaison=404), post=NOT_POST, outside=OUT_OF_SCOPE,
    ),
    "units:unit_toggle_active": Rule(
        args=unit, get=admin_only(OK), post=admin_only(REDIRECT), outside={"liaison": 403, "leader": 403},
    ),
    "units:user_list": Rule(get=admin_only(OK), post=NOT_POST),
    "units:user_toggle_active": Rule(args=member, get=admin_only(OK), post=admin_only(REDIRECT)),
    # the new one-time password is shown on the page that answers the POST
    "units:user_reset_password": Rule(args=member, get=admin_only(OK), post=admin_only(OK)),
    "units:user_unlock": Rule(args=member, get=admin_only(OK), post=admin_only(REDIRECT)),
    # ---- the audit trail: the admin's
    "core:audit_list": Rule(get=admin_only(OK), post=NOT_POST),
    "core:audit_export": Rule(get=admin_only(FILE), post=NOT_POST),
    "units:import_start": Rule(get=admin_only(OK), post=admin_only(FORM)),
    "units:import_template": Rule(
        args=lambda w, s: [RosterKind.UNITS.value], get=admin_only(FILE), post=NOT_POST,
        outside={"admin": 404}, outside_args=lambda w, s: [LEDGER_KIND],
    ),
    "units:import_job": Rule(
        args=roster_job, get=admin_only(OK), post=NOT_POST, outside={"admin": 404}, outside_args=ledger_job,
    ),
    # a job that has stopped: the progress URL sends the browser to the job's page
    "units:import_progress": Rule(
        args=roster_job, get=admin_only(REDIRECT), post=NOT_POST, outside={"admin": 404}, outside_args=ledger_job,
    ),
    "units:import_apply": Rule(
        args=roster_job, get=NOT_GET, post=admin_only(REDIRECT), outside={"admin": 404}, outside_args=ledger_job,
    ),
    "units:import_remap": Rule(
        args=roster_job, get=NOT_GET, post=admin_only(REDIRECT), outside={"admin": 404}, outside_args=ledger_job,
    ),
    "units:import_mapping_save": Rule(
        args=roster_job, get=NOT_GET, post=admin_only(REDIRECT), outside={"admin": 404}, outside_args=ledger_job,
    ),
    "units:import_passwords": Rule(
        args=users_job, get=NOT_GET, post=admin_only(REDIRECT), outside={"admin": 404}, outside_args=roster_job,
    ),
    "units:import_passwords_reissue": Rule(
        args=users_job, get=admin_only(OK), post=admin_only(REDIRECT), outside={"admin": 404}, outside_args=roster_job,
    ),
    # ---- campaigns: county-wide, every role reads them; the office and admins change their settings
    "campaigns:campaign_list": Rule(get=ANY_ROLE_GET, post=NOT_POST),
    "campaigns:campaign_create": Rule(get=managers(OK), post=managers(FORM)),
    "campaigns:calendar": Rule(get=ANY_ROLE_GET, post=managers(FORM)),
    "campaigns:calendar_delete": Rule(
        args=lambda w, s: [w.override.pk], get=NOT_GET, post=managers(REDIRECT),
    ),
    "campaigns:campaign_detail": Rule(args=campaign, get=ANY_ROLE_GET, post=NOT_POST),
    "campaigns:campaign_edit": Rule(args=campaign, get=managers(OK), post=managers(FORM)),
    "campaigns:category_list": Rule(args=campaign, get=ANY_ROLE_GET, post=NOT_POST),
    "campaigns:category_create": Rule(args=campaign, get=managers(OK), post=managers(FORM)),
    "campaigns:category_import": Rule(args=campaign, get=managers(OK), post=managers(FORM)),
    # nothing uploaded before: back to the upload page
    "campaigns:category_import_confirm": Rule(args=campaign, get=NOT_GET, post=managers(REDIRECT)),
    "campaigns:category_copy": Rule(args=campaign, get=managers(OK), post=managers(FORM)),
    "campaigns:category_export": Rule(args=campaign, get=each(FILE, outsider=403), post=NOT_POST),
    "campaigns:category_edit": Rule(
        args=category, get=managers(OK), post=managers(FORM),
        outside={"office": 404, "admin": 404}, outside_args=foreign_category,
    ),
    "campaigns:category_toggle_active": Rule(
        args=category, get=managers(OK), post=managers(REDIRECT),
        outside={"office": 404, "admin": 404}, outside_args=foreign_category,
    ),
    "campaigns:sources": Rule(args=campaign, get=ANY_ROLE_GET, post=managers(FORM)),
    # ---- the ledger
    "ledger:problem_list": Rule(get=ANY_ROLE_GET, post=NOT_POST),
    "ledger:problem_export": Rule(get=each(FILE, outsider=403), post=NOT_POST),
    "ledger:problem_create": Rule(get=office_only(OK), post=office_only(FORM)),
    # nothing ticked: back to the list; a draft with an unfinished deadline: the form again
    "ledger:problem_assign": Rule(
        get=office_only(REDIRECT), post=office_only(FORM),
        data=lambda w, s: {"ids": [s.draft.pk], "deadline_mode": "workdays"},
    ),
    "ledger:deadline_preview": Rule(get=ANY_ROLE_GET, post=NOT_POST),
    "ledger:review_queue": Rule(get=office_only(OK), post=NOT_POST),
    "ledger:my_tasks": Rule(get=each(403, liaison=OK, sibling_liaison=OK), post=NOT_POST),
    "ledger:problem_detail": Rule(
        args=problem, get=each(OK, **HIDDEN), post=NOT_POST, outside=OUT_OF_SCOPE,
    ),
    "ledger:problem_edit": Rule(
        args=problem, get=each(403, **HIDDEN, office=OK), post=each(403, **HIDDEN, office=FORM),
        outside=OUT_OF_SCOPE,
    ),
    "ledger:measure_create": Rule(
        args=problem, get=each(403, **HIDDEN, liaison=OK, office=OK),
        post=each(403, **HIDDEN, liaison=FORM, office=FORM), outside=OUT_OF_SCOPE,
    ),
    "ledger:problem_apply": Rule(
        args=problem, get=each(403, **HIDDEN, liaison=OK), post=each(403, **HIDDEN, liaison=FORM),
        outside=OUT_OF_SCOPE,
    ),
    # an invalid decision is told in a message on the problem page
    "ledger:problem_review": Rule(
        args=pending, get=each(403, **HIDDEN, office=OK), post=each(403, **HIDDEN, office=REDIRECT),
        outside=OUT_OF_SCOPE,
    ),
    "ledger:problem_void": Rule(
        args=problem, get=each(403, **HIDDEN, office=OK), post=each(403, **HIDDEN, office=FORM),
        outside=OUT_OF_SCOPE,
    ),
    "ledger:problem_reopen": Rule(
        args=closed, get=each(403, **HIDDEN, office=OK), post=each(403, **HIDDEN, office=FORM),
        outside=OUT_OF_SCOPE,
    ),
    "ledger:measure_edit": Rule(
        args=measure, get=each(403, **HIDDEN, liaison=OK, office=OK),
        post=each(403, **HIDDEN, liaison=FORM, office=FORM), outside=OUT_OF_SCOPE,
    ),
    "ledger:progress_add": Rule(
        args=measure, get=each(403, **HIDDEN, liaison=OK, office=OK),
        post=each(403, **HIDDEN, liaison=FORM, office=FORM), outside=OUT_OF_SCOPE,
    ),
    "ledger:evidence_view": Rule(args=evidence, get=each(FILE, **HIDDEN), post=NOT_POST, outside=OUT_OF_SCOPE),
    "ledger:evidence_remove": Rule(args=evidence, get=each(403, **HIDDEN, liaison=OK, office=OK),
                                   post=each(403, **HIDDEN, liaison=FORM, office=FORM), outside=OUT_OF_SCOPE),
    "ledger:evidence_download": Rule(
        args=evidence, get=each(FILE, **HIDDEN), post=NOT_POST, outside=OUT_OF_SCOPE,
    ),
    "ledger:lookback_list": Rule(get=office_only(OK), post=NOT_POST),
    # ---- notifications (the list and settings are every signed-in user's own; the office's pages are managers')
    "notifications:list": Rule(get=each(OK), post=NOT_POST),
    "notifications:mark_read": Rule(get=NOT_GET, post=each(REDIRECT)),
    "notifications:mark_all_read": Rule(get=NOT_GET, post=each(REDIRECT)),
    "notifications:open": Rule(args=notice, get=each(404, office=REDIRECT), post=NOT_POST),
    "notifications:preferences": Rule(get=each(OK), post=each(REDIRECT)),
    "notifications:channels": Rule(get=managers(OK), post=managers(REDIRECT)),
    "notifications:deliveries": Rule(get=managers(OK), post=NOT_POST),
    "notifications:deliveries_export": Rule(get=managers(FILE), post=NOT_POST),
    "notifications:delivery_resend": Rule(args=delivery, get=NOT_GET, post=managers(REDIRECT)),
    "notifications:robot_list": Rule(get=managers(OK), post=NOT_POST),
    "notifications:robot_create": Rule(get=managers(OK), post=managers(FORM)),
    "notifications:robot_edit": Rule(args=robot, get=managers(OK), post=managers(FORM)),
    "notifications:robot_enable": Rule(args=robot, get=NOT_GET, post=managers(REDIRECT)),
    "notifications:robot_disable": Rule(args=robot, get=managers(OK), post=managers(FORM)),
    "notifications:robot_test": Rule(args=robot, get=NOT_GET, post=managers(REDIRECT)),
    # ---- 挂牌督办 and 督办单
    "ledger:problem_listed": Rule(args=problem, get=NOT_GET, post=each(403, **HIDDEN, office=REDIRECT),
                                  outside=OUT_OF_SCOPE),
    # ---- 典型案例 and 追责问责 (the office's; nothing chosen: back to the problem page with a message)
    "ledger:problem_exemplar": Rule(args=problem, get=NOT_GET, post=each(403, **HIDDEN, office=REDIRECT),
                                    outside=OUT_OF_SCOPE),
    "ledger:accountability_add": Rule(args=problem, get=each(403, **HIDDEN, office=OK),
                                      post=each(403, **HIDDEN, office=FORM), outside=OUT_OF_SCOPE),
    # the office's delete goes through (each test runs in its own savepoint)
    "ledger:accountability_delete": Rule(args=record, get=NOT_GET, post=each(403, **HIDDEN, office=REDIRECT),
                                         outside=OUT_OF_SCOPE),
    "supervision:order_issue": Rule(args=problem, get=each(403, **HIDDEN, office=OK),
                                    post=each(403, **HIDDEN, office=FORM), outside=OUT_OF_SCOPE),
    "supervision:order_detail": Rule(args=order, get=each(OK, **HIDDEN), post=NOT_POST, outside=OUT_OF_SCOPE),
    "supervision:order_reply": Rule(args=order, get=NOT_GET, post=each(403, **HIDDEN, liaison=FORM),
                                    outside=OUT_OF_SCOPE),
    "supervision:order_withdraw": Rule(args=order, get=NOT_GET, post=each(403, **HIDDEN, office=FORM),
                                       outside=OUT_OF_SCOPE),
    "supervision:order_docx": Rule(args=order, get=each(FILE, **HIDDEN), post=NOT_POST, outside=OUT_OF_SCOPE),
    "supervision:order_list": Rule(get=office_only(OK), post=NOT_POST),
    "supervision:order_export": Rule(get=office_only(FILE), post=NOT_POST),
    # ---- the daily sweep
    "supervision:sweep_list": Rule(get=managers(OK), post=NOT_POST),
    "supervision:sweep_preview": Rule(get=managers(OK), post=NOT_POST),
    "supervision:sweep_run": Rule(get=NOT_GET, post=managers(REDIRECT)),
    "ledger:lookback_draw": Rule(get=office_only(OK), post=office_only(FORM)),
    "ledger:lookback_record": Rule(
        args=check, get=each(403, **HIDDEN, office=OK), post=each(403, **HIDDEN, office=FORM),
        outside=OUT_OF_SCOPE,
    ),
    # ---- reports and the dashboard: the office, admins and leaders; a leader only within their scope
    "reports:run_list": Rule(get=each(403, leader=OK, office=OK, admin=OK), post=NOT_POST),
    "reports:run_build": Rule(get=NOT_GET, post=managers(FORM)),
    "reports:run_detail": Rule(args=report, get=each(403, leader=OK, office=OK, admin=OK), post=NOT_POST,
                               outside={"leader": 404}, outside_args=foreign_report),
    "reports:run_download": Rule(args=report_file, get=each(403, leader=FILE, office=FILE, admin=FILE),
                                 post=NOT_POST, outside={"leader": 404}, outside_args=foreign_report_file),
    "reports:run_upload_final": Rule(args=report, get=NOT_GET, post=managers(REDIRECT),
                                     outside={"leader": 404}, outside_args=foreign_report),
    "reports:dashboard": Rule(get=each(403, leader=OK, office=OK, admin=OK), post=NOT_POST),
    "reports:dashboard_export": Rule(args=dashboard_table, get=each(403, leader=FILE, office=FILE, admin=FILE),
                                     post=NOT_POST),
    # ---- the ledger import: entering problems is the office's (docs/ledger-import.md), not the admin's
    "ledger:import_start": Rule(get=office_only(OK), post=office_only(FORM)),
    "ledger:import_template": Rule(get=office_only(FILE), post=NOT_POST),
    "ledger:import_job": Rule(
        args=ledger_job, get=office_only(OK), post=NOT_POST, outside={"office": 404}, outside_args=roster_job,
    ),
    "ledger:import_progress": Rule(
        args=ledger_job, get=office_only(REDIRECT), post=NOT_POST, outside={"office": 404}, outside_args=roster_job,
    ),
    "ledger:import_apply": Rule(
        args=ledger_job, get=NOT_GET, post=office_only(REDIRECT), outside={"office": 404}, outside_args=roster_job,
    ),
    "ledger:import_remap": Rule(
        args=ledger_job, get=NOT_GET, post=office_only(REDIRECT), outside={"office": 404}, outside_args=roster_job,
    ),
    "ledger:import_mapping_save": Rule(
        args=ledger_job, get=NOT_GET, post=office_only(REDIRECT), outside={"office": 404}, outside_args=roster_job,
    ),
}


# ---- checking one request ---------------------------------------------------------------------------------------

def _bound_forms_with_errors(response: Any) -> list[Any]:
    contexts = response.context
    if contexts is None:
        return []
    if not isinstance(contexts, list):
        contexts = [contexts]
    found = []
    for context in contexts:
        for layer in context:
            for value in layer.values():
                if isinstance(value, BaseForm) and value.is_bound and value.errors:
                    found.append(value)
                elif isinstance(value, BaseFormSet) and value.is_bound and not value.is_valid():
                    found.append(value)
    return found


def assert_outcome(response: Any, expected: Outcome, where: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    got = f"{status} {location}".strip()
    login_url = reverse("login")
    assert status < 500, f"{where}: server error {status}"
    if expected in (LOGIN, LOGGED_OUT):
        assert status == 302 and location.startswith(login_url), f"{where}: expected {expected}, got {got}"
    elif expected == REDIRECT:
        assert status == 302 and not location.startswith(login_url), f"{where}: expected {expected}, got {got}"
    elif expected == FORM:
        assert status == 200 and _bound_forms_with_errors(response), f"{where}: expected {expected}, got {got}"
    elif expected == FILE:
        disposition = response.get("Content-Disposition", "")
        assert status == 200 and disposition.startswith("attachment"), f"{where}: expected {expected}, got {got}"
    else:
        assert status == expected, f"{where}: expected {expected}, got {got}"


def request(client: Any, world: World, actor: str, method: str, url: str, data: dict[str, Any],
            expected: Outcome) -> None:
    before = snapshot() if expected in REFUSED else None
    denied_before = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).count()
    response = client.get(url) if method == "GET" else client.post(url, data)
    if response.streaming:
        # Reading a file to its end closes it; the client's wrapper keeps the test's connection open meanwhile.
        b"".join(response.streaming_content)
    assert_outcome(response, expected, f"{method} {url} as {actor}")
    # A 403 is recorded in the audit trail (one DENIED entry, result 拒绝); nothing else answers with one.
    denied = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).count()
    assert denied == denied_before + (response.status_code == 403), f"{method} {url} as {actor}: DENIED entries"
    if before is not None:
        after = snapshot()
        if response.status_code == 403:
            added = [row for row in after[AUDIT] if row not in before[AUDIT]]
            assert len(added) == 1, f"{method} {url} as {actor} was refused but wrote {len(added)} audit entries"
            after[AUDIT] = before[AUDIT]
        changed = [label for label in before if before[label] != after[label]]
        assert not changed, f"{method} {url} as {actor} was refused but changed {changed}"


# ---- the tests --------------------------------------------------------------------------------------------------

def test_every_url_has_a_rule() -> None:
    routes = project_routes()
    unnamed = [r.route for r in routes if not r.name]
    assert not unnamed, f"URL patterns without a name cannot be given a rule: {unnamed}"
    missing = [f"{r.name} ({r.route})" for r in routes if r.name not in RULES]
    assert not missing, f"no entry in RULES of tests/test_permissions.py for: {', '.join(missing)}"
    stale = sorted(set(RULES) - {r.name for r in routes})
    assert not stale, f"RULES has entries for URLs that no longer exist: {stale}"
    for r in routes:
        takes_args = RULES[r.name].args is not no_args
        assert takes_args == bool(r.converters), f"{r.name} ({r.route}): the rule's args do not fit {r.converters}"


def test_walk_finds_included_routes_with_namespaces_and_converters() -> None:
    routes = {r.name: r for r in walk(get_resolver())}
    assert routes["ledger:problem_detail"].route == "ledger/<int:pk>/"
    assert routes["ledger:problem_detail"].converters == ("IntConverter",)
    assert routes["campaigns:category_edit"].converters == ("IntConverter", "IntConverter")
    assert routes["ledger:import_job"].route == "ledger/import/<int:pk>/"  # from ledger/import_urls.py
    assert routes["login"].route == "accounts/login/"


CASES = [pytest.param(name, actor, id=f"{name}-{actor}") for name in RULES for actor in ACTORS]
OUTSIDE_CASES = [
    pytest.param(name, actor, id=f"{name}-{actor}-outside") for name, rule in RULES.items() for actor in rule.outside
]


@pytest.mark.parametrize(("name", "actor"), CASES)
def test_access(world: World, db: None, client: Any, name: str, actor: str) -> None:
    rule = RULES[name]
    subject = world.subjects[HOME.get(actor, "edu")]
    url = reverse(name, args=rule.args(world, subject))
    log_in(client, world, actor)
    request(client, world, actor, "GET", url, {}, rule.get[actor])
    request(client, world, actor, "POST", url, rule.data(world, subject), rule.post[actor])


@pytest.mark.parametrize(("name", "actor"), OUTSIDE_CASES)
def test_object_out_of_reach(world: World, db: None, client: Any, name: str, actor: str) -> None:
    rule = RULES[name]
    subject = world.subjects[AWAY.get(actor, HOME.get(actor, "edu"))]
    url = reverse(name, args=(rule.outside_args or rule.args)(world, subject))
    expected = rule.outside[actor]
    log_in(client, world, actor)
    if rule.get[actor] != 405:
        request(client, world, actor, "GET", url, {}, expected)
    if rule.post[actor] != 405:
        request(client, world, actor, "POST", url, rule.data(world, subject), expected)


def test_rules_name_every_actor() -> None:
    for name, rule in RULES.items():
        for method, outcomes in (("GET", rule.get), ("POST", rule.post)):
            assert set(outcomes) == set(ACTORS), f"{name} {method}: outcomes for {set(ACTORS) - set(outcomes)}"
        assert set(rule.outside) <= set(ROLES), f"{name}: outside names unknown actors"
        for actor in rule.outside:
            assert actor in AWAY or rule.outside_args, f"{name}: {actor} has no object out of reach"

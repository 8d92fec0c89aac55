"""The unit tree, unit detail, user list, audit log and the shell: who may open what, and what each one sees."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from core.jobs import job_import_create, job_preview
from core.models import AuditEntry, Job
from tests.conftest import PASSWORD
from tests.factories import UnitFactory
from units.models import Role, Unit, User
from units.roster import preview_roster
from units.services import unit_update

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def login(client, user):
    # The first backend (django-axes) only guards; the model backend is the one that loads users.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def tree_codes(response) -> set[str]:
    return set(re.findall(r'data-unit-code="([^"]+)"', response.content.decode()))


# ---------------------------------------------------------------- access matrix

ADMIN_PAGES = ["units:user_list", "core:audit_list"]
ANY_ROLE_PAGES = ["units:unit_tree"]


@pytest.mark.parametrize("name", ["home", *ANY_ROLE_PAGES, *ADMIN_PAGES])
def test_anonymous_is_sent_to_login(client, people, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name", ["units:unit_detail", "units:unit_toggle_active"])
def test_anonymous_is_sent_to_login_from_unit_pages(client, county, name):
    response = client.get(reverse(name, args=[county.education.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", [*ANY_ROLE_PAGES, *ADMIN_PAGES])
def test_outsider_without_role_is_refused(client, people, name):
    response = login(client, people.outsider).get(reverse(name))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


@pytest.mark.parametrize("who", ["office", "liaison", "leader"])
@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_refuse_other_roles(client, people, who, name):
    response = login(client, getattr(people, who)).get(reverse(name))
    assert response.status_code == 403
    assert "您没有访问此页面的权限" in response.content.decode()


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_open_for_admin(client, people, name):
    assert login(client, people.admin).get(reverse(name)).status_code == 200


def test_outsider_sees_a_home_page_that_explains(client, people):
    response = login(client, people.outsider).get(reverse("home"))
    assert response.status_code == 200
    assert "尚未分配角色" in response.content.decode()


# ---------------------------------------------------------------- shell and navigation


def nav_labels(response) -> list[str]:
    html = response.content.decode()
    menu = html.split('data-testid="nav-menu"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<a class="nav-link[^"]*"[^>]*>(.*?)</a>', menu, re.S)
    return [re.sub(r"<[^>]+>", "", m).strip() for m in links]


def test_layout_shows_name_unit_roles_and_account_links(client, people):
    html = login(client, people.liaison).get(reverse("home")).content.decode()
    assert "整改台账" in html
    assert "教体局联络员" in html
    assert "教体局" in html  # the unit's short name
    assert "联络员" in html
    assert reverse("password_change") in html
    assert f'action="{reverse("logout")}"' in html and 'method="post"' in html


def test_menu_by_role(client, people):
    admin_menu = nav_labels(login(client, people.admin).get(reverse("home")))
    assert {"工作台", "单位", "用户", "操作日志"} <= set(admin_menu)

    liaison_menu = nav_labels(login(client, people.liaison).get(reverse("home")))
    assert "单位" in liaison_menu
    assert not {"用户", "操作日志", "名册导入"} & set(liaison_menu)

    leader_menu = nav_labels(login(client, people.leader).get(reverse("home")))
    assert "单位" in leader_menu and "用户" not in leader_menu


def test_current_page_is_marked_in_menu(client, people):
    html = login(client, people.admin).get(reverse("units:unit_tree")).content.decode()
    assert re.search(r'class="nav-link active" href="/units/"', html)


def test_only_the_closest_menu_item_is_active(client, people):
    html = login(client, people.admin).get(reverse("units:import_start")).content.decode()
    assert html.count('class="nav-link active"') == 1
    assert re.search(r'class="nav-link active" href="/units/import/"', html)


def test_home_quick_links_follow_the_menu(client, people):
    html = login(client, people.admin).get(reverse("home")).content.decode()
    quick = html.split('data-testid="quick-links"', 1)[1]
    assert reverse("units:user_list") in quick


def test_no_inline_scripts(client, people):
    html = login(client, people.admin).get(reverse("units:unit_tree")).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "cdn" not in html.lower()


# ---------------------------------------------------------------- unit tree


def test_admin_tree_has_every_unit_nested(client, people, county):
    response = login(client, people.admin).get(reverse("units:unit_tree"))
    assert tree_codes(response) == set(Unit.objects.values_list("code", flat=True))
    html = response.content.decode()
    # The school is nested inside the education bureau's group.
    edu = html.index('data-unit-code="JTJ"')
    school = html.index('data-unit-code="YZ"')
    finance = html.index('data-unit-code="CZJ"')
    assert edu < school
    assert "</details>" in html[school:finance]


def _unit_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q for q in ctx.captured_queries if "units_unit" in q["sql"]]


def test_tree_reads_units_in_a_fixed_number_of_queries(client, people, county):
    client = login(client, people.admin)
    baseline = len(_unit_queries(client, reverse("units:unit_tree")))
    for _ in range(10):
        UnitFactory(parent=county.village)
    assert len(_unit_queries(client, reverse("units:unit_tree"))) == baseline


def test_liaison_tree_is_own_subtree(client, people):
    response = login(client, people.liaison).get(reverse("units:unit_tree"))
    assert tree_codes(response) == {"JTJ", "YZ"}
    assert "县财政局" not in response.content.decode()


def test_leader_tree_is_own_subtree_plus_overseen(client, people):
    response = login(client, people.leader).get(reverse("units:unit_tree"))
    assert tree_codes(response) == {"CZJ", "CGJD", "HPSQ"}


def test_office_tree_is_everything(client, people):
    response = login(client, people.office).get(reverse("units:unit_tree"))
    assert tree_codes(response) == set(Unit.objects.values_list("code", flat=True))


def test_tree_search_highlights_and_expands_ancestors(client, people, county):
    response = login(client, people.admin).get(reverse("units:unit_tree"), {"q": "一高"})
    html = response.content.decode()
    assert "<mark>一高</mark>" in html
    assert re.search(r'<strong data-testid="match-count">1</strong>', html)
    # The education bureau, the school's parent, is open; the township (no match below) is closed.
    assert re.search(r'<details class="unit-node" open data-unit-code="JTJ"', html)
    assert re.search(r'<details class="unit-node" data-unit-code="CGJD"', html)


def test_tree_search_by_code_and_short_name(client, people):
    client = login(client, people.admin)
    html = client.get(reverse("units:unit_tree"), {"q": "hpsq"}).content.decode()
    assert "<mark>HPSQ</mark>" in html
    assert re.search(r'<details class="unit-node" open data-unit-code="CGJD"', html)
    html = client.get(reverse("units:unit_tree"), {"q": "教体"}).content.decode()
    assert "<mark>教体</mark>" in html


def test_tree_search_escapes_input(client, people):
    html = login(client, people.admin).get(reverse("units:unit_tree"), {"q": "<script>"}).content.decode()
    assert "<script>" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "没有找到" in html


def test_tree_search_stays_in_scope(client, people):
    response = login(client, people.liaison).get(reverse("units:unit_tree"), {"q": "财政"})
    assert "没有找到" in response.content.decode()
    assert tree_codes(response) == {"JTJ", "YZ"}


def test_tree_shows_kind_code_and_inactive_badge(client, people, county):
    county.education_school.is_active = False
    county.education_school.save()
    html = login(client, people.admin).get(reverse("units:unit_tree")).content.decode()
    assert "事业单位" in html and "乡镇街道" in html
    assert "<code class=\"unit-code\">YZ</code>" in html
    assert "停用" in html


def test_tree_sorts_siblings_by_sort_order(client, people, county):
    unit_update(unit=county.town, by=people.admin, sort_order=-1)
    html = login(client, people.admin).get(reverse("units:unit_tree")).content.decode()
    assert html.index('data-unit-code="CGJD"') < html.index('data-unit-code="ZFB"')


def test_only_admin_gets_unit_toggle_links(client, people, county):
    url = reverse("units:unit_toggle_active", args=[county.education.pk])
    assert url in login(client, people.admin).get(reverse("units:unit_tree")).content.decode()
    assert url not in login(client, people.office).get(reverse("units:unit_tree")).content.decode()


# ---------------------------------------------------------------- unit detail


def test_unit_detail_in_scope(client, people, county):
    response = login(client, people.liaison).get(reverse("units:unit_detail", args=[county.education.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "县教育体育局" in html and "县第一高级中学" in html and "教体局联络员" in html


def test_unit_detail_out_of_scope_is_404(client, people, county):
    client = login(client, people.liaison)
    for unit in (county.finance, county.root, county.town):
        response = client.get(reverse("units:unit_detail", args=[unit.pk]))
        assert response.status_code == 404
        assert "页面不存在" in response.content.decode()
    assert client.get(reverse("units:unit_detail", args=[999999])).status_code == 404


def test_unit_detail_breadcrumb_stops_at_scope(client, people, county):
    url = reverse("units:unit_detail", args=[county.education_school.pk])
    html = login(client, people.liaison).get(url).content.decode()
    assert "示范县" not in html  # the root is outside the liaison's scope
    assert reverse("units:unit_detail", args=[county.education.pk]) in html


def test_leader_sees_overseen_unit_detail(client, people, county):
    client = login(client, people.leader)
    assert client.get(reverse("units:unit_detail", args=[county.village.pk])).status_code == 200
    assert client.get(reverse("units:unit_detail", args=[county.education.pk])).status_code == 404


def test_outsider_refused_unit_detail(client, people, county):
    response = login(client, people.outsider).get(reverse("units:unit_detail", args=[county.village.pk]))
    assert response.status_code == 403


# ---------------------------------------------------------------- unit deactivate / reactivate


def test_unit_deactivate_get_only_asks(client, people, county):
    url = reverse("units:unit_toggle_active", args=[county.town.pk])
    response = login(client, people.admin).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "确认停用" in html and 'method="post"' in html
    assert "1 个启用中的下级单位" in html
    county.town.refresh_from_db()
    assert county.town.is_active


def test_unit_deactivate_and_reactivate_by_post(client, people, county):
    client = login(client, people.admin)
    url = reverse("units:unit_toggle_active", args=[county.town.pk])
    response = client.post(url, {"active": "0", "next": reverse("units:unit_tree")})
    assert response.status_code == 302 and response["Location"] == reverse("units:unit_tree")
    county.town.refresh_from_db()
    assert not county.town.is_active
    assert AuditEntry.objects.filter(action="deactivate", object_repr="城关街道", actor=people.admin).exists()

    assert "确认启用" in client.get(url).content.decode()
    client.post(url, {"active": "1"})
    county.town.refresh_from_db()
    assert county.town.is_active


def test_unit_toggle_ignores_offsite_next(client, people, county):
    url = reverse("units:unit_toggle_active", args=[county.town.pk])
    response = login(client, people.admin).post(url, {"active": "0", "next": "https://evil.example/"})
    assert response["Location"] == reverse("units:unit_detail", args=[county.town.pk])


@pytest.mark.parametrize("who", ["office", "liaison", "leader", "outsider"])
def test_unit_toggle_refused_for_non_admin(client, people, county, who):
    client = login(client, getattr(people, who))
    url = reverse("units:unit_toggle_active", args=[county.education.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"active": "0"}).status_code == 403
    county.education.refresh_from_db()
    assert county.education.is_active


def test_unit_toggle_rejects_other_methods(client, people, county):
    url = reverse("units:unit_toggle_active", args=[county.town.pk])
    assert login(client, people.admin).put(url).status_code == 405


# ---------------------------------------------------------------- user list


def usernames(response) -> set[str]:
    return {u.username for u in response.context["page_obj"]}


def test_user_list_shows_everyone_to_admin(client, people):
    response = login(client, people.admin).get(reverse("units:user_list"))
    assert usernames(response) == set(User.objects.values_list("username", flat=True))
    html = response.content.decode()
    assert "教体局联络员" in html and "联络员" in html


def test_user_list_filters(client, people, county):
    client = login(client, people.admin)
    url = reverse("units:user_list")
    assert usernames(client.get(url, {"role": Role.LIAISON})) == {"liaison1", "liaison2"}
    assert usernames(client.get(url, {"unit": county.town.pk})) == {"outsider"}  # the unit and its subtree
    assert usernames(client.get(url, {"unit": county.finance.pk, "role": Role.LEADER})) == {"leader1"}
    assert usernames(client.get(url, {"q": "财政局"})) == {"liaison2"}
    people.office.is_active = False
    people.office.save()
    assert usernames(client.get(url, {"status": "inactive"})) == {"office1"}
    assert "office1" not in usernames(client.get(url, {"status": "active"}))


def test_user_list_bad_filter_shows_everything_and_says_so(client, people):
    response = login(client, people.admin).get(reverse("units:user_list"), {"role": "boss"})
    assert response.status_code == 200
    assert "筛选条件有误" in response.content.decode()


def test_user_list_paginates_25(client, people, county):
    for i in range(30):
        User.objects.create(username=f"bulk{i:02d}", full_name=f"批量{i}", unit=county.education)
    client = login(client, people.admin)
    first = client.get(reverse("units:user_list"))
    assert len(first.context["page_obj"]) == 25
    html = first.content.decode()
    assert "下一页" in html and "共 36 条" in html
    second = client.get(reverse("units:user_list"), {"page": 2, "role": ""})
    assert len(second.context["page_obj"]) == 11
    assert "上一页" in second.content.decode()


# ---------------------------------------------------------------- user deactivate / reset password


def test_user_deactivate_asks_then_posts(client, people):
    client = login(client, people.admin)
    url = reverse("units:user_toggle_active", args=[people.liaison.pk])
    assert "确认停用" in client.get(url).content.decode()
    people.liaison.refresh_from_db()
    assert people.liaison.is_active

    response = client.post(url, {"active": "0"})
    assert response.status_code == 302
    people.liaison.refresh_from_db()
    assert not people.liaison.is_active
    client.post(url, {"active": "1"})
    people.liaison.refresh_from_db()
    assert people.liaison.is_active


def test_admin_cannot_deactivate_self(client, people):
    client = login(client, people.admin)
    url = reverse("units:user_toggle_active", args=[people.admin.pk])
    assert "不能停用自己的账号" in client.get(url).content.decode()
    response = client.post(url, {"active": "0"}, follow=True)
    assert "不能停用自己的账号" in response.content.decode()
    people.admin.refresh_from_db()
    assert people.admin.is_active


def test_deactivated_user_cannot_log_in(client, people):
    login(client, people.admin).post(reverse("units:user_toggle_active", args=[people.liaison.pk]), {"active": "0"})
    client.logout()
    response = client.post(reverse("login"), {"username": "liaison1", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_reset_password_shows_one_time_password_once(client, people):
    client = login(client, people.admin)
    url = reverse("units:user_reset_password", args=[people.liaison.pk])
    assert "确认重置" in client.get(url).content.decode()
    assert people.liaison.check_password(PASSWORD)

    response = client.post(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert password in response.content.decode()
    people.liaison.refresh_from_db()
    assert people.liaison.check_password(password)
    assert people.liaison.must_change_password
    assert password not in str(list(AuditEntry.objects.values_list("changes", "note")))

    # It is not shown again anywhere.
    assert password not in client.get(reverse("units:user_list")).content.decode()
    assert password not in client.get(reverse("core:audit_list")).content.decode()


@pytest.mark.parametrize("who", ["office", "liaison", "leader", "outsider"])
def test_user_actions_refused_for_non_admin(client, people, who):
    client = login(client, getattr(people, who))
    for name in ("units:user_toggle_active", "units:user_reset_password"):
        url = reverse(name, args=[people.sibling_liaison.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"active": "0"}).status_code == 403
    people.sibling_liaison.refresh_from_db()
    assert people.sibling_liaison.is_active and people.sibling_liaison.check_password(PASSWORD)


def test_user_action_on_unknown_user_is_404(client, people):
    response = login(client, people.admin).get(reverse("units:user_toggle_active", args=[999999]))
    assert response.status_code == 404


# ---------------------------------------------------------------- audit log


# ---------------------------------------------------------------- error pages


def test_404_page_is_chinese(client, people):
    response = login(client, people.admin).get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_500_page_renders_without_context():
    html = get_template("500.html").render()
    assert "系统出现错误" in html


# ---------------------------------------------------------------- roster import


def xlsx_upload(rows, name="名册.xlsx"):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def shared_upload(shared_data, name):
    return SimpleUploadedFile(name, (shared_data / name).read_bytes(), content_type=XLSX)


def upload(client, kind, file):
    return client.post(reverse("units:import_start"), {"kind": kind, "file": file})


def read_xlsx(content: bytes) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


UNIT_HEADER = ["单位编码", "单位名称", "单位简称", "单位类型", "上级单位", "排序号"]


@pytest.fixture
def admin_client(client, people):
    return login(client, people.admin)


def test_import_pages_refuse_anonymous(client, db):
    for url in (reverse("units:import_start"), reverse("units:import_template", args=["units"])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["office", "liaison", "leader", "outsider"])
def test_import_pages_refuse_non_admin(client, people, who, tmp_path, settings):
    job = job_import_create(kind="units", upload=xlsx_upload([UNIT_HEADER]), by=people.admin)
    client = login(client, getattr(people, who))
    for name in ("units:import_start",):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("units:import_template", args=["units"])).status_code == 403
    for name in ("units:import_job", "units:import_progress"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 403
    for name in ("units:import_apply", "units:import_passwords"):
        assert client.post(reverse(name, args=[job.pk])).status_code == 403
    assert upload(client, "units", xlsx_upload([UNIT_HEADER])).status_code == 403


def test_import_start_page_describes_columns(admin_client):
    html = admin_client.get(reverse("units:import_start")).content.decode()
    assert "单位名册" in html and "人员名册" in html
    assert "单位编码" in html and "统一社会信用代码" in html and "所属单位" in html
    assert reverse("units:import_template", args=["units"]) in html
    assert reverse("units:import_template", args=["users"]) in html


@pytest.mark.parametrize(("kind", "first"), [("units", "单位编码"), ("users", "姓名")])
def test_import_template_is_an_xlsx_the_importer_reads(admin_client, kind, first):
    response = admin_client.get(reverse("units:import_template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = read_xlsx(response.content)
    assert rows[0][0] == first
    report = preview_roster(kind, io.BytesIO(response.content))
    assert report.file_errors == []
    assert report.rows == []
    assert admin_client.get(reverse("units:import_template", args=["ledger"])).status_code == 404


def test_upload_rejects_other_formats(admin_client, tmp_path, settings):
    response = upload(admin_client, "units", SimpleUploadedFile("名册.xls", b"not excel"))
    assert response.status_code == 200
    assert "xlsx" in response.content.decode()
    response = upload(admin_client, "units", SimpleUploadedFile("名册.xlsx", b"not a zip at all"))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "invalid-feedback" in response.content.decode()
    assert not Job.objects.exists()


def test_unit_roster_preview_then_apply(admin_client, shared_data, county, tmp_path, settings):
    response = upload(admin_client, "units", shared_upload(shared_data, "units_roster.xlsx"))
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == reverse("units:import_job", args=[job.pk])
    assert job.status == Job.Status.PREVIEWED

    page = admin_client.get(response["Location"])
    html = page.content.decode()
    assert 'data-testid="count-new">84<' in html
    assert "确认导入" in html and 'data-testid="apply-submit"' in html
    # The county's own units are not in this roster: offered for deactivation (机构改革).
    assert 'name="deactivate"' in html and "县财政局" in html
    assert Unit.objects.count() == 7  # a preview writes nothing

    # Tabs filter the rows.
    assert len(admin_client.get(response["Location"], {"show": "error"}).context["page_obj"]) == 0
    assert admin_client.get(response["Location"], {"show": "new"}).context["page_obj"].paginator.count == 84
    assert len(admin_client.get(response["Location"], {"show": "new"}).context["page_obj"]) == 25

    # Confirm, choosing to deactivate the finance bureau; a unit id outside `missing` is ignored.
    other = UnitFactory(code="NOT-MISSING")
    response = admin_client.post(
        reverse("units:import_apply", args=[job.pk]), {"deactivate": [str(county.finance.pk), str(other.pk), "abc"]}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    roster_root = Unit.objects.get(code="114199010000000194")
    assert roster_root.name == "示范县"
    county.finance.refresh_from_db()
    assert not county.finance.is_active
    other.refresh_from_db()
    assert other.is_active
    html = admin_client.get(reverse("units:import_job", args=[job.pk])).content.decode()
    assert "导入完成" in html and "县财政局" in html

    # A second confirmation changes nothing.
    admin_client.post(reverse("units:import_apply", args=[job.pk]))
    assert Job.objects.get().status == Job.Status.DONE


def test_apply_is_post_only(admin_client, people, tmp_path, settings):
    job = job_import_create(kind="units", upload=xlsx_upload([UNIT_HEADER, ["A1", "甲单位"]]), by=people.admin)
    job_preview(job=job)
    assert admin_client.get(reverse("units:import_apply", args=[job.pk])).status_code == 405
    assert not Unit.objects.filter(code="A1").exists()


def test_roster_with_errors_cannot_be_applied(admin_client, county, tmp_path, settings):
    rows = [UNIT_HEADER, ["A1", "甲单位", "", "", "NOPE"], ["A2", "", "", "", ""], ["A3", "丙单位"]]
    response = upload(admin_client, "units", xlsx_upload(rows))
    job = Job.objects.get()
    html = admin_client.get(response["Location"]).content.decode()
    assert 'data-testid="apply-blocked"' in html and "不能导入" in html
    assert 'data-testid="apply-submit"' not in html
    assert re.search(r'<button type="button" class="btn btn-primary ms-auto" disabled', html)
    assert "NOPE" in html and "row-error" in html
    errors = admin_client.get(response["Location"], {"show": "error"}).context["page_obj"]
    assert {r["row"] for r in errors} == {2, 3}

    response = admin_client.post(reverse("units:import_apply", args=[job.pk]), follow=True)
    assert "不能导入" in response.content.decode()
    assert not Unit.objects.filter(code__in=["A1", "A2", "A3"]).exists()


def test_changes_are_shown_old_to_new(admin_client, county, tmp_path, settings):
    response = upload(admin_client, "units", xlsx_upload([UNIT_HEADER, ["CZJ", "县财政局", "县财政"]]))
    page = admin_client.get(response["Location"], {"show": "changed"})
    html = page.content.decode()
    assert page.context["page_obj"].paginator.count == 1
    assert '<span class="old-value">财政局</span> → <span class="new-value">县财政</span>' in html


def test_user_roster_passwords_download_once(
    admin_client, shared_data, people, tmp_path, settings, django_capture_on_commit_callbacks
):
    upload(admin_client, "units", shared_upload(shared_data, "units_roster.xlsx"))
    admin_client.post(reverse("units:import_apply", args=[Job.objects.get().pk]))

    response = upload(admin_client, "users", shared_upload(shared_data, "users_roster.xlsx"))
    job = Job.objects.get(kind="users")
    assert job.status == Job.Status.PREVIEWED, job.report.get("file_errors")
    assert job.can_apply, [r for r in job.report["rows"] if r["errors"]][:3]
    # Many new accounts (a password hash each) are imported by a background task once the request commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("units:import_apply", args=[job.pk]), follow=True)
    assert "后台导入" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    new_accounts = job.report["counts"]["new"]
    assert new_accounts > 0

    html = admin_client.get(reverse("units:import_job", args=[job.pk])).content.decode()
    assert "下载初始密码表" in html
    assert admin_client.get(reverse("units:import_passwords", args=[job.pk])).status_code == 405

    response = admin_client.post(reverse("units:import_passwords", args=[job.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    rows = read_xlsx(response.content)
    assert rows[0] == ("登录名", "姓名", "初始密码")
    assert len(rows) == new_accounts + 1
    username, _, password = rows[1]
    assert User.objects.get(username=username).check_password(password)

    job.refresh_from_db()
    assert job.report["initial_passwords"] == []
    assert AuditEntry.objects.filter(action="export", object_id=str(job.pk), actor=people.admin).exists()
    again = admin_client.post(reverse("units:import_passwords", args=[job.pk]), follow=True)
    assert "已经下载过" in again.content.decode()
    assert password not in again.content.decode()


def test_progress_partial_polls_then_refreshes(admin_client, people, tmp_path, settings):
    job = job_import_create(kind="units", upload=xlsx_upload([UNIT_HEADER, ["A1", "甲单位"]]), by=people.admin)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PREVIEWING, progress=40)

    page = admin_client.get(reverse("units:import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and reverse("units:import_progress", args=[job.pk]) in page

    url = reverse("units:import_progress", args=[job.pk])
    partial = admin_client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert partial.status_code == 200
    assert '<progress class="import-progress" value="40" max="100"' in html
    assert "<html" not in html

    Job.objects.filter(pk=job.pk).update(status=Job.Status.PREVIEWED, progress=100)
    done = admin_client.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    assert admin_client.get(url)["Location"] == reverse("units:import_job", args=[job.pk])


def test_ledger_jobs_are_not_shown_here(admin_client, people, tmp_path, settings):
    job = job_import_create(kind="units", upload=xlsx_upload([UNIT_HEADER]), by=people.admin)
    Job.objects.filter(pk=job.pk).update(kind="ledger")
    assert admin_client.get(reverse("units:import_job", args=[job.pk])).status_code == 404
    assert admin_client.get(reverse("units:import_job", args=[999999])).status_code == 404


# ---------------------------------------------------------------- Django's admin (superusers' repairs)


def test_django_admin_pages_render_for_superuser(client, people, county):
    boss = User.objects.create_superuser("root", password=PASSWORD, full_name="超级管理员", unit=county.root)
    client = login(client, boss)
    for path in ("units/unit", "units/user", "core/auditentry", "core/job"):
        assert client.get(f"/django-admin/{path}/").status_code == 200, path
    assert client.get(f"/django-admin/units/user/{people.liaison.pk}/change/").status_code == 200
    assert client.get(f"/django-admin/units/unit/{county.town.pk}/change/").status_code == 200
    assert client.get("/django-admin/units/unit/add/").status_code == 403


def test_django_admin_refuses_app_admins_without_staff_flag(client, people):
    response = login(client, people.admin).get("/django-admin/units/unit/")
    assert response.status_code == 302

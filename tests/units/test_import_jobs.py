from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from core import jobs, tasks
from core.jobs import job_apply, job_forget, job_import_create, job_preview, register_importer
from core.models import AuditEntry, Job
from units.apps import INLINE_NEW_ACCOUNTS
from units.models import Unit, User
from units.roster import RosterReport
from units.validators import uscc_check_char

HEADER = ["单位编码", "单位名称", "上级单位编码"]


def uscc(n: int) -> str:
    first17 = f"11419901{n:09d}"
    return first17 + uscc_check_char(first17)


ROOT, A, B = uscc(1), uscc(2), uscc(3)
TREE = [[ROOT, "示范县", None], [A, "县委办公室", ROOT], [B, "县人民政府办公室", ROOT]]


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(rows: list[list[Any]], name: str = "单位名册.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows), content_type="application/octet-stream")


@pytest.fixture
def fresh_importers(monkeypatch):
    """Registrations made by a test do not outlive it."""
    monkeypatch.setattr(jobs, "KINDS", dict(jobs.KINDS))


# creating a job ------------------------------------------------------------------------------------------------


def test_create_stores_the_upload(people):
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin)
    assert job.status == Job.Status.UPLOADED
    assert job.original_name == "单位名册.xlsx"
    assert job.owner == people.admin
    assert job.total_rows == 4
    assert job.file.name.startswith("imports/")
    with job.file.open("rb") as fh:
        assert openpyxl.load_workbook(fh).active["B2"].value == "示范县"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("名册.xls", b"\xd0\xcf\x11\xe0", "只能上传 Excel（.xlsx）文件"),
        ("名册.csv", b"a,b", "只能上传 Excel（.xlsx）文件"),
        ("名册.xlsx", b"a,b\n1,2", "不是有效的 Excel（.xlsx）文件"),
    ],
)
def test_create_refuses_what_is_not_an_xlsx(people, name, content, expected):
    with pytest.raises(ValidationError) as exc:
        job_import_create(kind="units", upload=SimpleUploadedFile(name, content), by=people.admin)
    assert expected in exc.value.messages[0]
    assert Job.objects.count() == 0


def test_create_refuses_large_files_and_zip_bombs(people, settings):
    data = xlsx_bytes([HEADER, *TREE])
    settings.XLSX_MAX_UPLOAD_BYTES = len(data) - 1
    with pytest.raises(ValidationError, match="文件过大"):
        job_import_create(kind="units", upload=SimpleUploadedFile("a.xlsx", data), by=people.admin)

    settings.XLSX_MAX_UPLOAD_BYTES = 10_000_000
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/pad.bin", b"\0" * 3_000_000)
    settings.XLSX_MAX_UNZIPPED_BYTES = 1_000_000
    with pytest.raises(ValidationError, match="解压后超过"):
        job_import_create(kind="units", upload=SimpleUploadedFile("a.xlsx", buf.getvalue()), by=people.admin)
    assert Job.objects.count() == 0


def test_create_refuses_an_unknown_kind(people):
    with pytest.raises(ValidationError, match="不支持的导入类型"):
        job_import_create(kind="budget", upload=upload([HEADER]), by=people.admin)


# preview, then confirm -----------------------------------------------------------------------------------------


def test_preview_then_apply_inline(people):
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin)
    job = job_preview(job=job)
    assert job.status == Job.Status.PREVIEWED
    assert job.progress == 100
    assert set(job.report) >= {"rows", "file_errors", "missing", "counts", "initial_passwords"}
    assert job.report["counts"] == {"new": 3, "changed": 0, "unchanged": 0, "conflict": 0, "error": 0}
    assert job.report["rows"][0] == {
        "row": 2, "status": "new", "key": ROOT, "label": "示范县", "changes": {}, "errors": [],
        "notices": [], "conflicts": [],
    }
    assert job.can_apply
    assert not Unit.objects.filter(code__in=[ROOT, A, B]).exists()  # a preview writes nothing

    job = job_apply(job=job, by=people.admin, ip="10.1.1.1")
    assert job.status == Job.Status.DONE
    assert job.finished_at is not None
    assert job.report["applied"] is True
    assert Unit.objects.filter(code__in=[ROOT, A, B]).count() == 3
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == people.admin and entry.ip == "10.1.1.1" and "单位名册.xlsx" in entry.note

    # a second confirmation (a double click, a retried request) does nothing
    again = job_apply(job=job, by=people.admin)
    assert again.status == Job.Status.DONE
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == 1


def test_a_preview_with_errors_cannot_be_confirmed(people):
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE, [A, "重复", ROOT]]), by=people.admin)
    job = job_preview(job=job)
    assert job.status == Job.Status.PREVIEWED
    assert job.report["counts"]["error"] == 1
    assert job.report["rows"][3]["errors"] == [f"第5行「单位编码」列：单位编码“{A}”与第3行重复"]
    assert not job.can_apply
    with pytest.raises(ValidationError, match="预检发现错误"):
        job_apply(job=job, by=people.admin)
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED
    assert not Unit.objects.filter(code=A).exists()


def test_a_file_error_is_shown_in_the_preview(people):
    job = job_import_create(kind="units", upload=upload([["单位名称", "上级单位"], ["县委", None]]), by=people.admin)
    job = job_preview(job=job)
    assert job.status == Job.Status.PREVIEWED
    assert "缺少必需的列" in job.report["file_errors"][0]
    assert not job.can_apply


def test_apply_needs_a_preview_first(people):
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin)
    with pytest.raises(ValidationError, match="预检"):
        job_apply(job=job, by=people.admin)
    assert Unit.objects.filter(code=ROOT).count() == 0


def test_errors_appearing_between_preview_and_apply_write_nothing(people, county):
    rows = [["姓名", "手机号", "所属单位", "角色"], ["张三", "13800000001", "JTJ", "联络员"]]
    job = job_preview(job=job_import_create(kind="users", upload=upload(rows), by=people.admin))
    assert job.can_apply
    Unit.objects.filter(code="JTJ").update(is_active=False)  # deactivated meanwhile
    job = job_apply(job=job, by=people.admin)
    assert job.status == Job.Status.PREVIEWED
    assert "已停用" in job.report["rows"][0]["errors"][0]
    assert not job.can_apply
    assert not User.objects.filter(username="13800000001").exists()


def test_users_job_reports_initial_passwords_until_forgotten(people, county):
    rows = [["姓名", "手机号", "所属单位", "角色"], ["张三", "13800000001", "JTJ", "联络员"]]
    job = job_preview(job=job_import_create(kind="users", upload=upload(rows), by=people.admin))
    assert job.report["initial_passwords"] == []
    job = job_apply(job=job, by=people.admin)
    assert job.status == Job.Status.DONE
    [entry] = job.report["initial_passwords"]
    assert entry["username"] == "13800000001" and entry["full_name"] == "张三"
    assert User.objects.get(username="13800000001").check_password(entry["password"])
    job = job_forget(job=job, key="initial_passwords")
    job.refresh_from_db()
    assert job.report["initial_passwords"] == []
    assert job.report["counts"]["new"] == 1


def test_missing_units_can_be_deactivated_on_confirmation(people):
    first = job_preview(job=job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin))
    job_apply(job=first, by=people.admin)
    job = job_preview(
        job=job_import_create(kind="units", upload=upload([HEADER, *TREE[:2]]), by=people.admin)
    )
    b = Unit.objects.get(code=B)
    missing = {m["code"] for m in job.report["missing"]}
    assert B in missing
    job = job_apply(job=job, by=people.admin, params={"deactivate_unit_ids": [b.pk]})
    assert job.status == Job.Status.DONE
    assert [m["code"] for m in job.report["deactivated"]] == [B]
    b.refresh_from_db()
    assert not b.is_active


# large files: Celery, progress ---------------------------------------------------------------------------------


def test_large_files_are_queued_after_commit(people, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_BACKGROUND_ROWS = 2
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_preview(job=job)
    assert job.status == Job.Status.PREVIEWING  # queued, not run in the request
    assert len(callbacks) == 1
    callbacks[0]()  # the commit happens; the (eager) Celery task runs
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_apply(job=job, by=people.admin)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert Unit.objects.filter(code__in=[ROOT, A, B]).count() == 3


def test_confirming_many_new_accounts_runs_in_the_background(people, county, django_capture_on_commit_callbacks):
    rows = [["姓名", "手机号", "所属单位", "角色"]]
    rows += [[f"联络员{i}", f"1390000{i:04d}", "JTJ", "联络员"] for i in range(INLINE_NEW_ACCOUNTS + 1)]
    job = job_preview(job=job_import_create(kind="users", upload=upload(rows), by=people.admin))
    assert job.total_rows < 100 and job.report["counts"]["new"] == INLINE_NEW_ACCOUNTS + 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_apply(job=job, by=people.admin)
    assert job.status == Job.Status.APPLYING
    assert not User.objects.filter(username="13900000000").exists()
    assert len(callbacks) == 1
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert User.objects.filter(username__startswith="1390000").count() == INLINE_NEW_ACCOUNTS + 1


def test_tasks_leave_a_job_alone_unless_it_was_claimed(people):
    job = job_import_create(kind="units", upload=upload([HEADER, *TREE]), by=people.admin)
    tasks.apply_job(job.pk, people.admin.pk, None, {})
    tasks.preview_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.UPLOADED
    assert not Unit.objects.filter(code=ROOT).exists()


def _slow_preview(file: Any, *, progress: Any = None, **options: Any) -> RosterReport:
    seen = []
    for i in range(1001):
        progress(i, 1000)
        if i in (250, 500):
            seen.append(Job.objects.values_list("progress", flat=True).get(kind="ledger"))
    return RosterReport(kind="ledger", file_errors=[f"seen {seen}"])


@pytest.mark.django_db(transaction=True)
def test_progress_is_saved_every_two_percent_and_never_backwards(fresh_importers):
    register_importer("ledger", "问题台账", preview=_slow_preview, apply=_slow_preview)
    job = job_import_create(kind="ledger", upload=upload([["a"]]), by=None)
    with CaptureQueriesContext(connection) as queries:
        job = job_preview(job=job)
    assert job.report["file_errors"] == ["seen [24, 50]"]
    progress_writes = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "progress" in q["sql"]]
    assert 40 <= len(progress_writes) <= 55
    assert job.progress == 100


def _progress_seen_by_another_session() -> int:
    if connection.vendor != "postgresql":  # SQLite has one writer at a time: progress shows at the commit
        return Job.objects.values_list("progress", flat=True).get(kind="ledger")
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT progress FROM {Job._meta.db_table} WHERE kind = 'ledger'")
            return cursor.fetchone()[0]
    finally:
        other.close()


def _apply_checking_progress(file: Any, *, by: Any, progress: Any = None, **options: Any) -> RosterReport:
    with transaction.atomic():
        progress(60, 100)
        seen = _progress_seen_by_another_session()
    return RosterReport(kind="ledger", file_errors=[] if seen == 60 else [f"progress seen as {seen}"])


@pytest.mark.django_db(transaction=True)
def test_progress_during_an_import_transaction_is_visible(fresh_importers):
    """On PostgreSQL it is written through a second connection, so the browser sees it before the commit."""
    ok_preview = lambda file, *, progress=None, **o: RosterReport(kind="ledger")  # noqa: E731
    register_importer("ledger", "问题台账", preview=ok_preview, apply=_apply_checking_progress)
    job = job_preview(job=job_import_create(kind="ledger", upload=upload([["a"]]), by=None))
    job = job_apply(job=job, by=None)
    assert job.report["file_errors"] == []
    assert job.status == Job.Status.DONE


# other importers (the ledger) ----------------------------------------------------------------------------------

calls: list[tuple[str, dict[str, Any]]] = []


def ledger_preview(file: Any, *, progress: Any = None, **options: Any) -> RosterReport:
    calls.append(("preview", {"first_cell": openpyxl.load_workbook(file).active["A1"].value, **options}))
    return RosterReport(kind="ledger")


def ledger_apply(file: Any, *, by: Any, ip: Any = None, deactivate_unit_ids: Any = (), progress: Any = None,
                 **options: Any) -> RosterReport:
    calls.append(("apply", {"by": by, "ip": ip, **options}))
    return RosterReport(kind="ledger", applied=True)


def test_other_kinds_register_their_own_importers(people, fresh_importers):
    calls.clear()
    register_importer("ledger", "问题台账", preview="tests.units.test_import_jobs.ledger_preview", apply=ledger_apply)
    job = job_import_create(kind="ledger", upload=upload([["问题台账"]]), by=people.office, options={"campaign": "ZF"})
    job = job_apply(job=job_preview(job=job), by=people.office, ip="10.0.0.1")
    assert job.status == Job.Status.DONE
    assert calls == [
        ("preview", {"first_cell": "问题台账", "campaign": "ZF"}),
        ("apply", {"by": people.office, "ip": "10.0.0.1", "campaign": "ZF"}),
    ]


def _broken(file: Any, **kwargs: Any) -> RosterReport:
    raise RuntimeError("boom")


def test_an_importer_crash_marks_the_job_failed(people, fresh_importers):
    register_importer("ledger", "问题台账", preview=_broken, apply=_broken)
    job = job_preview(job=job_import_create(kind="ledger", upload=upload([["a"]]), by=people.admin))
    assert job.status == Job.Status.FAILED
    assert "预检时发生系统错误" in job.error
    job = job_preview(job=job)  # a failed job may be checked again
    assert job.status == Job.Status.FAILED


def test_a_worker_that_does_not_know_the_kind_fails_the_job(people, fresh_importers):
    register_importer("ledger", "问题台账", preview=_broken, apply=_broken)
    job = job_import_create(kind="ledger", upload=upload([["a"]]), by=people.admin)
    del jobs.KINDS["ledger"]
    job = job_preview(job=job)
    assert job.status == Job.Status.FAILED

"""The audit trail is only added to: no save of an existing entry, no update or delete through the queryset or an
instance, no change or delete in Django's admin. Each refusal leaves the entry as it was."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from core.audit import Action, audit_record
from core.models import AuditEntry, AuditTrailIsAppendOnly
from tests.conftest import PASSWORD
from units.models import User


@pytest.fixture
def entry(db) -> AuditEntry:
    return audit_record(action=Action.UPDATE, note="原始记录")


def unchanged(entry: AuditEntry) -> bool:
    stored = AuditEntry.objects.values("action", "note", "at", "result").get(pk=entry.pk)
    return stored == {"action": "update", "note": "原始记录", "at": entry.at, "result": "success"}


def test_saving_an_existing_entry_is_refused(entry):
    entry.note = "篡改"
    with pytest.raises(AuditTrailIsAppendOnly, match="操作日志只能追加"):
        entry.save()
    fetched = AuditEntry.objects.get(pk=entry.pk)
    fetched.note = "篡改"
    with pytest.raises(AuditTrailIsAppendOnly):
        fetched.save(update_fields=["note"])
    assert unchanged(entry)


def test_a_new_entry_with_an_existing_id_does_not_overwrite_it(entry):
    forged = AuditEntry(pk=entry.pk, action=Action.DELETE, note="篡改")
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()
    assert unchanged(entry)


def test_the_queryset_update_is_refused(entry):
    with pytest.raises(AuditTrailIsAppendOnly, match="不能修改"):
        AuditEntry.objects.update(note="篡改")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(note="篡改")
    # (each in its own savepoint: bulk_update's own transaction marks the enclosing one as failed)
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        AuditEntry.objects.bulk_update([AuditEntry(pk=entry.pk, note="篡改")], ["note"])
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        AuditEntry.objects.update_or_create(pk=entry.pk, defaults={"note": "篡改"})
    assert unchanged(entry)


def test_the_queryset_delete_is_refused(entry):
    with pytest.raises(AuditTrailIsAppendOnly, match="不能删除"):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert unchanged(entry)


def test_deleting_an_instance_is_refused(entry):
    with pytest.raises(AuditTrailIsAppendOnly, match="不能删除"):
        entry.delete()
    assert unchanged(entry)


def test_adding_stays_possible(db):
    audit_record(action=Action.CREATE, note="一")
    AuditEntry.objects.bulk_create([AuditEntry(action=Action.CREATE, note="二")])
    assert AuditEntry.objects.count() == 2


def test_django_admin_offers_no_change_and_no_delete(client, county, entry):
    boss = User.objects.create_superuser("root", password=PASSWORD, full_name="超级管理员", unit=county.root)
    client.force_login(boss, backend="django.contrib.auth.backends.ModelBackend")
    base = "/django-admin/core/auditentry/"
    changelist = client.get(base)
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    page = client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # view only
    assert client.post(f"{base}{entry.pk}/change/", {"note": "篡改", "action": "delete"}).status_code == 403
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}).status_code
    assert unchanged(entry)

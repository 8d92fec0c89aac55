from __future__ import annotations

from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from units import demo
from units.models import Role, Unit, UnitKind, User, scope_paths
from units.validators import uscc_is_valid


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def demo_units():
    return Unit.objects.subtree_of(Unit.objects.get(code=demo.ROOT_CODE))


def demo_users():
    return User.objects.filter(username__in=[a.username for a in demo.DEMO_ACCOUNTS])


@pytest.mark.smoke
@pytest.mark.django_db
def test_builds_a_county_of_three_levels_with_valid_codes():
    run()
    units = demo_units()
    assert units.count() >= 60
    assert {0, 1, 2} <= set(units.values_list("depth", flat=True))
    bad = [u.code for u in units if not uscc_is_valid(u.code)]
    assert bad == []
    kinds = set(units.values_list("kind", flat=True))
    assert {UnitKind.PARTY, UnitKind.GOVERNMENT, UnitKind.TOWNSHIP, UnitKind.INSTITUTION} <= kinds
    assert {UnitKind.STATE_ENTERPRISE, UnitKind.MASS_ORGANIZATION} <= kinds
    assert units.filter(kind_label="县委工作机关").exists()
    # Every unit hangs off the one root, and its path is its parent's path plus its own id.
    for unit in units.exclude(code=demo.ROOT_CODE).select_related("parent"):
        assert unit.path == f"{unit.parent.path}{unit.pk}/"


@pytest.mark.django_db
def test_every_role_has_an_account_that_can_log_in_without_changing_its_password():
    out = run()
    users = list(demo_users())
    for role in Role.values:
        assert any(role in u.role_codes for u in users), role
    for user in users:
        assert user.check_password(demo.DEMO_PASSWORD)
        assert not user.must_change_password
        assert user.is_active
        validate_password(demo.DEMO_PASSWORD, user)
        assert user.username in out  # the accounts table is printed
    assert demo.DEMO_PASSWORD in out


@pytest.mark.django_db
def test_accounts_have_the_scopes_the_demo_promises():
    run()
    liaison = User.objects.get(username="liaison")
    sibling = User.objects.get(username="liaison2")
    leader = User.objects.get(username="leader")
    assert liaison.unit.name == "示范县教育体育局"
    assert sibling.unit.parent_id == liaison.unit.parent_id and sibling.unit_id != liaison.unit_id
    assert leader.overseen_units.exists()

    liaison_sees = set(Unit.objects.visible_to(liaison).values_list("name", flat=True))
    assert "示范县第一高级中学" in liaison_sees and "示范县财政局" not in liaison_sees
    leader_sees = set(Unit.objects.visible_to(leader).values_list("name", flat=True))
    assert {"示范县教育体育局", "示范县城关街道办事处", "城关街道和平社区居民委员会"} <= leader_sees
    assert "示范县财政局" not in leader_sees
    assert scope_paths(User.objects.get(username="office")) is None


@pytest.mark.django_db
def test_second_run_changes_nothing():
    run()
    units_before = list(demo_units().values_list("pk", "code", "path"))
    users_before = list(demo_users().values_list("pk", "password"))
    out = run()
    assert "已加载" in out
    assert "liaison2" in out
    assert list(demo_units().values_list("pk", "code", "path")) == units_before
    assert list(demo_users().values_list("pk", "password")) == users_before


@pytest.mark.django_db
def test_reset_needs_debug_or_force(settings):
    settings.DEBUG = False
    run()
    old_root = Unit.objects.get(code=demo.ROOT_CODE).pk
    with pytest.raises(CommandError):
        run("--reset")
    assert Unit.objects.get(code=demo.ROOT_CODE).pk == old_root

    run("--reset", "--force")
    root = Unit.objects.get(code=demo.ROOT_CODE)
    assert root.pk != old_root
    assert demo_units().count() == len(list(demo.iter_tree()))
    assert demo_users().count() == len(demo.DEMO_ACCOUNTS)


@pytest.mark.django_db
def test_refuses_to_take_over_an_existing_account_name():
    User.objects.create_user(username="admin", password="Other#Pass1")
    with pytest.raises(CommandError, match="admin"):
        run()
    assert not Unit.objects.filter(code=demo.ROOT_CODE).exists()


@pytest.mark.django_db
def test_other_apps_contribute_demo_data_through_their_demo_module(monkeypatch):
    calls: list[str] = []

    def load(stdout):
        assert Unit.objects.filter(code=demo.ROOT_CODE).exists()  # units come first
        calls.append("load")

    def reset(stdout):
        calls.append("reset")

    monkeypatch.setattr(demo, "demo_modules", lambda: [SimpleNamespace(load_demo=load, reset_demo=reset)])
    run()
    run()  # hooks run on every call and are expected to be idempotent themselves
    run("--reset", "--force")
    assert calls == ["load", "load", "reset", "load"]


def test_installed_apps_with_a_demo_module_are_discovered():
    names = [m.__name__ for m in demo.demo_modules()]
    assert "units.demo" not in names
    assert all(n.endswith(".demo") for n in names)

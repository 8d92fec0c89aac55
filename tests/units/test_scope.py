from __future__ import annotations

import pytest

from units.models import Unit, User


def names(qs):
    return set(qs.values_list("code", flat=True))


@pytest.mark.smoke
def test_admin_and_office_see_everything(people, county):
    everything = names(Unit.objects.all())
    assert names(Unit.objects.visible_to(people.admin)) == everything
    assert names(Unit.objects.visible_to(people.office)) == everything


def test_liaison_sees_own_subtree_only(people, county):
    assert names(Unit.objects.visible_to(people.liaison)) == {"JTJ", "YZ"}
    assert names(Unit.objects.visible_to(people.sibling_liaison)) == {"CZJ"}


def test_leader_sees_own_subtree_plus_overseen(people, county):
    assert names(Unit.objects.visible_to(people.leader)) == {"CZJ", "CGJD", "HPSQ"}


def test_outsider_and_inactive_see_nothing(people, county):
    assert names(Unit.objects.visible_to(people.outsider)) == set()
    people.office.is_active = False
    people.office.save()
    assert names(Unit.objects.visible_to(User.objects.get(pk=people.office.pk))) == set()


def test_users_scoped_by_their_unit(people):
    assert set(User.objects.visible_to(people.liaison).values_list("username", flat=True)) == {"liaison1"}
    assert "outsider" in set(User.objects.visible_to(people.leader).values_list("username", flat=True))


def test_subtree_is_one_query(county, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert names(Unit.objects.subtree_of(county.town)) == {"CGJD", "HPSQ"}

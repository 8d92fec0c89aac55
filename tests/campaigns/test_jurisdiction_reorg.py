from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns import services
from units.services import unit_set_active


def test_a_unit_deactivated_later_stays_in_the_jurisdiction_but_cannot_be_added(people, county):
    c = services.campaign_create(by=people.office, name="作风整顿", code="ZF2030", jurisdiction=[county.town])
    unit_set_active(unit=county.town, active=False, by=people.admin)
    county.town.refresh_from_db()
    # the edit form sends the jurisdiction as it stands: the reorganised unit must not block other edits
    services.campaign_update(campaign=c, by=people.office, jurisdiction=[county.town], yellow_window_days=5)
    c.refresh_from_db()
    assert c.yellow_window_days == 5 and list(c.jurisdiction.all()) == [county.town]

    other = services.campaign_create(by=people.office, name="另一行动", code="ZF2031", jurisdiction=[county.finance])
    with pytest.raises(ValidationError, match="已停用"):
        services.campaign_update(campaign=other, by=people.office, jurisdiction=[county.finance, county.town])
    assert list(other.jurisdiction.all()) == [county.finance]

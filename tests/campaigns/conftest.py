from __future__ import annotations

import datetime as dt

import pytest

from campaigns import services
from campaigns.models import Campaign


@pytest.fixture
def campaign(people, county) -> Campaign:
    return services.campaign_create(
        by=people.office, name="深化机关作风整顿", code="ZF2026", jurisdiction=[county.root],
        start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 12, 31),
    )


@pytest.fixture
def login(client, people):
    # The first backend (django-axes) only guards; the model backend is the one that loads users.
    def _login(user):
        client.logout()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login

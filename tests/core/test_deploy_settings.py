"""The production settings pass Django's deployment checks as they are, behind the HTTPS reverse proxy the README
describes; each protection can be set from the environment."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def prod(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py` with the production settings, the required variables set and nothing else of ours."""
    alphabet = string.ascii_letters + string.digits
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "BEHIND_", "DJANGO_", "DEBUG"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "config.settings.prod",
              "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)), "ALLOWED_HOSTS": "x", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=clean, capture_output=True,
                          text=True, timeout=120)


def shown(**env: str) -> dict[str, str]:
    names = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
             "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "X_FRAME_OPTIONS", "DEBUG")
    code = ("import json; from django.conf import settings; "
            f"print(json.dumps({{n: repr(getattr(settings, n)) for n in {names!r}}}))")
    result = prod("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    values: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def test_check_deploy_warns_of_nothing():
    result = prod("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_the_defaults_are_for_https_behind_a_proxy():
    values = shown()
    assert values["SECURE_SSL_REDIRECT"] == "True"
    assert values["SECURE_HSTS_SECONDS"] == "31536000"
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] == "True"
    assert values["SECURE_HSTS_PRELOAD"] == "False"
    assert values["SECURE_PROXY_SSL_HEADER"] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == "True"
    assert (values["X_FRAME_OPTIONS"], values["DEBUG"]) == ("'DENY'", "False")


def test_each_protection_comes_from_the_environment():
    values = shown(SECURE_SSL_REDIRECT="False", SECURE_HSTS_SECONDS="3600", SECURE_HSTS_INCLUDE_SUBDOMAINS="False",
                   SECURE_HSTS_PRELOAD="True")
    assert values["SECURE_SSL_REDIRECT"] == "False"
    assert values["SECURE_HSTS_SECONDS"] == "3600"
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] == "False"
    assert values["SECURE_HSTS_PRELOAD"] == "True"


def test_turning_a_protection_off_is_reported_by_check_deploy():
    result = prod("check", "--deploy", SECURE_SSL_REDIRECT="False", SECURE_HSTS_SECONDS="0")
    assert "security.W008" in result.stdout + result.stderr
    assert "security.W004" in result.stdout + result.stderr

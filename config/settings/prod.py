from __future__ import annotations

from .base import *  # noqa: F403
from .base import SILENCED_SYSTEM_CHECKS, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a reverse proxy that terminates HTTPS and sets X-Forwarded-Proto.
if env.bool("BEHIND_HTTPS_PROXY", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain HTTP is answered with a redirect to HTTPS, and browsers are told to use HTTPS only for a year (HSTS).
# Only a deployment served over plain HTTP on an internal network turns these off (and the secure cookies above).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Paths (regular expressions, without the leading slash) still answered over HTTP, e.g. a load balancer's probe.
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
# The subdomains of the site's own host name (not its parent domain's).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Entering the browsers' preload list is the domain owner's decision and hard to undo: off unless asked for, and
# then Django's reminder about it is not needed.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

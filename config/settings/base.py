"""Settings shared by every environment; everything variable comes from the environment."""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",
    "csp",
    "core",
    "units",
    "notifications",
    "campaigns",
    "ledger",
    "supervision",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RequestContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.submissions.SubmissionGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "units.middleware.IdleTimeoutMiddleware",
    "units.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "units.context_processors.navigation",
                "notifications.context_processors.bell",
            ],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a few simultaneous users: a writer waits for the one before it instead of failing
    # with "database is locked". BEGIN IMMEDIATE takes the write lock when a transaction starts, so SQLite's busy
    # timeout applies (a deferred transaction that reads, then writes, is refused at once); WAL lets pages be read
    # while one transaction writes. Options given in DATABASE_URL win.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "units.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 8 with three kinds of character is the common rule of government systems; ASVS L2 (2.1.1) asks for 12.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=8)
AUTH_PASSWORD_VALIDATORS = [
    # Django's four, with their messages in Chinese.
    {"NAME": "units.validators.UserAttributeSimilarityValidator"},
    {"NAME": "units.validators.MinimumLengthValidator", "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH}},
    {"NAME": "units.validators.CommonPasswordValidator"},
    {"NAME": "units.validators.NumericPasswordValidator"},
    {"NAME": "units.validators.ComplexityValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account after five failed logins; an admin unlocks it (or it expires after AXES_COOLOFF_HOURS).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The login name axes records, bounded to what an account can have (its failure record holds 255 characters).
AXES_USERNAME_CALLABLE = "units.forms.axes_username"

# The reverse proxies whose X-Forwarded-For is believed (addresses or networks); empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# The audit trail is kept at least this long; `prune_audit` removes older entries (and records that it did).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=180)
# Initial passwords of a users import are kept until first downloaded, and at most this long.
INITIAL_PASSWORD_TTL_HOURS = env.int("INITIAL_PASSWORD_TTL_HOURS", default=24)

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
IDLE_TIMEOUT_SECONDS = env.int("IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# Content-Security-Policy (django-csp): scripts only from our static files and carrying the request's nonce
# (`<script nonce="{{ request.csp_nonce }}" src="…">`), styles only from our static files (no style attribute, no
# <style>), nothing from another host, never framed. A response that sets its own policy keeps it (evidence files
# are served with a sandbox).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded files (evidence, imports) are never served from a public URL: views check scope, then stream them.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-public/"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Excel uploads: refuse files larger than this, or whose archive expands past the second figure.
XLSX_MAX_UPLOAD_BYTES = env.int("XLSX_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
XLSX_MAX_UNZIPPED_BYTES = env.int("XLSX_MAX_UNZIPPED_BYTES", default=200 * 1024 * 1024)
# … and files that would have an import read more cells than this: rows × columns up to the last header column
# (blank rows between included), or cells (or shared strings) in one sheet of the archive; merges, links and formats
# up to a quarter of it. Reading takes a little over 200 bytes a cell of a real ledger (70 MB at the peak for 10,000
# problems, 320,000 cells; bench/ledger_read.py), so the default holds an import to about 250 MB.
XLSX_MAX_CELLS = env.int("XLSX_MAX_CELLS", default=1_000_000)
# Rosters with more rows than this are imported by a background task with a progress bar.
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=2000)

# Celery: JSON only. With REDIS_URL unset, an embedded filesystem broker (see dev.py).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
# The cache holds what every process must see alike (a form's one-time token: core.submissions); with REDIS_URL unset
# (one process, the embedded default) the local memory cache does.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "zhenggai"}}
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
# A task whose worker died (SIGKILL, OOM) goes back to the queue instead of being lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Lockout is per account: offices sit behind one NAT address, so locking by address would lock whole offices out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Background jobs (core.jobs): a running job's worker renews its lease; a job whose lease ran out is queued again
# once, then failed with a Chinese message.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=120)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=2)

# Reminders and escalation. The daily sweep runs at SWEEP_TIME (Asia/Shanghai) on working days; what falls due on a
# holiday goes out on the next working day.
SWEEP_TIME = env("SWEEP_TIME", default="08:30")
_sweep_hour, _sweep_minute = (int(x) for x in SWEEP_TIME.split(":"))
# The channels this deployment offers (the office then allows them, users choose among those allowed).
NOTIFY_CHANNELS = env.list("NOTIFY_CHANNELS", default=["inapp", "email", "wecom", "dingtalk", "sms"])
# A delivery that fails is tried again with backoff (60 s, 120 s, … at most an hour) up to this many times.
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
# A sender holds a claimed delivery this long; a row still 发送中 after it is marked 结果未知 and is never sent again
# by itself.
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=300)
# Links in messages point here (robots and email are read outside the browser).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Email: Django's SMTP backend configured from the environment (console backend in development).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="整改台账 <noreply@localhost>")
# Group robots: private 政务微信 / 钉钉 hosts are settings; each robot's URL and secret are stored encrypted.
WECOM_WEBHOOK_BASE = env("WECOM_WEBHOOK_BASE", default="https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
DINGTALK_WEBHOOK_BASE = env("DINGTALK_WEBHOOK_BASE", default="https://oapi.dingtalk.com/robot/send")
ROBOT_RATE_PER_MINUTE = env.int("ROBOT_RATE_PER_MINUTE", default=20)
ROBOT_TIMEOUT_SECONDS = env.float("ROBOT_TIMEOUT_SECONDS", default=10.0)
# The key that encrypts robot URLs and secrets at rest (Fernet, urlsafe base64 of 32 bytes); derived from
# SECRET_KEY when unset. Changing it makes the stored robots unreadable: they must be entered again.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")
# SMS (督办 and above only): a logging backend by default; notifications.channels.sms documents the vendors'.
SMS_BACKEND = env("SMS_BACKEND", default="notifications.channels.sms.LoggingSmsBackend")
SMS_SIGN_NAME = env("SMS_SIGN_NAME", default="")
SMS_TEMPLATE_CODE = env("SMS_TEMPLATE_CODE", default="")
SMS_ACCESS_KEY_ID = env("SMS_ACCESS_KEY_ID", default="")
SMS_ACCESS_KEY_SECRET = env("SMS_ACCESS_KEY_SECRET", default="")
SMS_SDK_APP_ID = env("SMS_SDK_APP_ID", default="")
# 督办单 numbers: 督办〔2026〕3号.
SUPERVISION_ORDER_PREFIX = env("SUPERVISION_ORDER_PREFIX", default="督办")
SUPERVISION_OFFICE_NAME = env("SUPERVISION_OFFICE_NAME", default="作风建设工作领导小组办公室")
# Official document fonts (GB/T 9704): named in every Word file; offices have them installed.
DOC_FONT_TITLE = env("DOC_FONT_TITLE", default="方正小标宋简体")
DOC_FONT_BODY = env("DOC_FONT_BODY", default="仿宋_GB2312")
DOC_FONT_HEADING = env("DOC_FONT_HEADING", default="黑体")
DOC_FONT_KAI = env("DOC_FONT_KAI", default="楷体_GB2312")
DOC_FONT_PAGE_NUMBER = env("DOC_FONT_PAGE_NUMBER", default="宋体")

# Reports: 月调度 on the campaign's day, 季通报 on the first working day after a quarter, 周报 on Monday mornings
# (Asia/Shanghai), each built once per period at REPORT_TIME.
REPORT_TIME = env("REPORT_TIME", default="07:30")
_report_hour, _report_minute = (int(x) for x in REPORT_TIME.split(":"))

CELERY_BEAT_SCHEDULE = {
    "core.reap_jobs": {"task": "core.tasks.reap_jobs", "schedule": 60.0},
    "supervision.daily_sweep": {
        "task": "supervision.tasks.daily_sweep",
        "schedule": crontab(hour=_sweep_hour, minute=_sweep_minute),
    },
    "reports.scheduled_builds": {
        "task": "reports.tasks.scheduled_builds",
        "schedule": crontab(hour=_report_hour, minute=_report_minute),
    },
    # Retries, robots' rate limits and deliveries whose sender died are looked after every minute.
    "notifications.send_pending": {"task": "notifications.tasks.send_pending", "schedule": 60.0},
    # Initial passwords of a users import that nobody downloaded within INITIAL_PASSWORD_TTL_HOURS.
    "units.purge_initial_passwords": {"task": "units.tasks.purge_initial_passwords", "schedule": crontab(minute=7)},
}

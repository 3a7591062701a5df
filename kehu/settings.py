"""Kehu settings: one module, every value from the environment (12-factor).

Development needs nothing set: SQLite in ./var, DEBUG on, a throwaway secret. Production sets
KEHU_ENV=production, which turns DEBUG off and makes SECRET_KEY and ALLOWED_HOSTS required.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent

env = environ.Env()
KEHU_ENV = env.str("KEHU_ENV", default="development")
PRODUCTION = KEHU_ENV == "production"

DEBUG = env.bool("KEHU_DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("KEHU_SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("KEHU_SECRET_KEY must be set to at least 50 random characters in production")
    ALLOWED_HOSTS = env.list("KEHU_ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("KEHU_ALLOWED_HOSTS must list the host names Kehu answers to in production")
else:
    SECRET_KEY = env.str("KEHU_SECRET_KEY", default="insecure-development-key-not-for-production-use-0123456789")
    ALLOWED_HOSTS = env.list("KEHU_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])

VAR_DIR = Path(env.str("KEHU_VAR_DIR", default=str(PROJECT_DIR / "var")))
DATASETS_DIR = Path(env.str("KEHU_DATASETS", default=str(PROJECT_DIR.parent / "shared" / "datasets")))
REQUIRE_DATASETS = env.bool("KEHU_REQUIRE_DATASETS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "axes",
    "django_countries",  # country names in both languages (no models)
    "django_tasks",
    "django_tasks_db",
    "kehu.core",
    "kehu.users",
    "kehu.customers",
    "kehu.sales",
    "kehu.activities",
    "kehu.analytics",
    "kehu.dataio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kehu.core.middleware.BodySizeLimitMiddleware",
    "kehu.core.middleware.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.users.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.core.context_processors.navigation",
            ],
        },
    }
]

# Database: SQLite (WAL) by default, anything DATABASE_URL names otherwise (postgres://… in production).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("KEHU_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles the larger report queries for ~100 ms and wins nothing back on them
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://kehu")}

# Background work (exports, recounts after stages are reordered) through the django_tasks API. KEHU_TASKS picks
# the backend: "database" (default; run `kehu db_worker` beside the web server), "redis" (RQ on
# KEHU_REDIS_URL; run `kehu rqworker default`) or "immediate" (in the request that starts the work; small
# installations with no worker).
KEHU_TASKS = env.str("KEHU_TASKS", default="database")
if KEHU_TASKS == "redis":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": env.str("KEHU_REDIS_URL", default="redis://127.0.0.1:6379/0")}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.backend.RQBackend", "QUEUES": ["default"]}}
elif KEHU_TASKS == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif KEHU_TASKS == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured(f"KEHU_TASKS must be database, redis or immediate, not {KEHU_TASKS!r}")
# A stage reorder recounts every deal's furthest stage in its request up to this many deals in the pipeline,
# in a background job beyond.
KEHU_REACH_INLINE_MAX = env.int("KEHU_REACH_INLINE_MAX", default=20_000)
# Files a job produced (exports) are offered for download this many days, then deleted.
KEHU_JOB_FILES_DAYS = env.int("KEHU_JOB_FILES_DAYS", default=7)

# models.W040: SQLite ignores an index's INCLUDE columns. The board's and the reports' indexes cover their
# queries on PostgreSQL; on SQLite they are plain indexes, which is what we want there too.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "kehu.users.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins (django-axes): per user name + address.
AXES_FAILURE_LIMIT = env.int("KEHU_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("KEHU_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kehu.core.formats"]  # zh-hans amounts grouped by thousands
COUNTRIES_FIRST = ["CN"]
COUNTRIES_OVERRIDE = {
    "TW": gettext_lazy("Taiwan, China"),
    "HK": gettext_lazy("Hong Kong SAR, China"),
    "MO": gettext_lazy("Macao SAR, China"),
}
TIME_ZONE = env.str("KEHU_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("KEHU_STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; finders serve the files in development

# Requests: bodies over 1 MiB are refused with 413 before any view runs.
KEHU_MAX_BODY_BYTES = env.int("KEHU_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = KEHU_MAX_BODY_BYTES
# File uploads (contract files, to URLs ending in /files/) may be larger; kept under the data directory and
# served only through views that check the gate, never as public media URLs.
KEHU_MAX_UPLOAD_BYTES = env.int("KEHU_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
MEDIA_ROOT = Path(env.str("KEHU_MEDIA_ROOT", default=str(VAR_DIR / "media")))

KEHU_DEFAULT_CURRENCY = env.str("KEHU_DEFAULT_CURRENCY", default="CNY")
# The seller named at the top of quote PDFs.
KEHU_COMPANY_NAME = env.str("KEHU_COMPANY_NAME", default="Kehu")
KEHU_COMPANY_ADDRESS = env.str("KEHU_COMPANY_ADDRESS", default="")
KEHU_PHONE_REGION = env.str("KEHU_PHONE_REGION", default="CN")
KEHU_PAGE_SIZE = 50

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kehu.users.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "kehu.core.api.GatedAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Gated view sets bring their own cursor pagination and gate-aware filtering (kehu.core.api).
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_FILTER_BACKENDS": [],
    "EXCEPTION_HANDLER": "kehu.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("KEHU_TOKEN_RATE", default="10/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kehu API",
    "DESCRIPTION": "REST API of Kehu (客户). Authenticate with `Authorization: Bearer <token>` "
    '(POST /api/v1/auth/token/) or a browser session. Errors are `{"errors": {"field": ["message"]}}`; '
    "lists are paged by cursor (`next`); `ETag`/`If-Match` guard updates; `Idempotency-Key` makes a POST safe "
    "to retry. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "DEFAULT_GENERATOR_CLASS": "kehu.core.api.EnglishSchemaGenerator",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kehu.core.api.strict_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        # open / won / lost: an opportunity's status and a stage's kind share one enum
        "DealStatusEnum": "kehu.sales.models.opportunities.Opportunity.Status",
        "TaskStatusEnum": "kehu.activities.models.Task.Status",
        "QuoteStatusEnum": "kehu.sales.models.documents.Quote.Status",
        "OrderStatusEnum": "kehu.sales.models.documents.SalesOrder.Status",
        "ContractStatusEnum": "kehu.sales.models.documents.Contract.Status",
        "PaymentStatusEnum": "kehu.sales.models.documents.Payment.Status",
    },
}

# Security defaults; production adds HTTPS-only cookies and HSTS.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("KEHU_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("KEHU_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("KEHU_CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("KEHU_LOG_LEVEL", default="WARNING")},
}

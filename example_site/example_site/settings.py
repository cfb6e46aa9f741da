"""Settings of the example site, configured from the environment.

Defaults give a local development site on SQLite with DEBUG on. Production-like runs set, e.g.::

    DEBUG=0  SECRET_KEY=...  ALLOWED_HOSTS=lti.example.com
    CSRF_TRUSTED_ORIGINS=https://lti.example.com
    DATABASE_URL=postgres://user:pass@127.0.0.1:5432/wagtail_lti
    CACHE_URL=redis://127.0.0.1:6379/0
    SECURE_COOKIES=1  TRUST_X_FORWARDED_PROTO=1
    LTI_FRAME_ANCESTORS="https://lms.example.com"  LTI_ENCRYPTION_KEY=...

Every variable is described in docs/production.md.
"""

import os
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured


PROJECT_DIR = Path(__file__).resolve().parent
BASE_DIR = PROJECT_DIR.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """A comma- or space-separated environment variable as a list."""
    return os.environ.get(name, default).replace(",", " ").split()


DEVELOPMENT_SECRET_KEY = "example-site-insecure-development-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Origins (scheme://host[:port]) whose form posts are accepted, needed behind HTTPS proxies.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "courses",
    "demo_tool",
    "wagtail_lti",
    # Background tasks (platform notices to tools): the tasks framework and its database backend.
    "django_tasks",
    "django_tasks_db",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sends X-Frame-Options: DENY on every response that does not say otherwise: the admin can
    # never be framed. Course pages and the launch pages inside an activity's iframe say otherwise
    # (wagtail_lti.courses.framing): this site may frame them, and so may the origins in
    # WAGTAIL_LTI["FRAME_ANCESTORS"] (LTI_FRAME_ANCESTORS below).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "example_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "example_site.wsgi.application"

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE: a transaction takes SQLite's write lock when it starts, so concurrent
            # writers (several threads or processes posting scores) wait their turn for up to
            # `timeout` seconds instead of failing with "database is locked" when a reading
            # transaction tries to write. WAL with synchronous=NORMAL: readers do not block the
            # writer, and a commit does not wait for the disk (a few milliseconds less per launch,
            # docs/benchmarks.md); a power cut may lose the last commits, never corrupt the file.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

if os.environ.get("CACHE_URL", "").startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "wagtail-lti"),
        }
    }
    # Sessions read from the shared cache and written through to the database: a request that
    # needs the signed-in user (every launch) no longer reads the session table.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = []
# Tests only (the test suite sets it, and the app servers it starts inherit it): a fast password
# hasher. Never set it for a real site.
if env_bool("FAST_PASSWORD_HASHER"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = BASE_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"

# Cookies: an LTI 1.3 launch reaches the authorization endpoint through a navigation started by the
# tool's page inside the activity's iframe (a cross-site request), which browsers send without a
# SameSite=Lax session cookie. Sites serving embedded launches over HTTPS set SECURE_COOKIES=1:
# cookies become "SameSite=None; Secure". Only over HTTPS: browsers drop SameSite=None cookies
# that are not Secure. See docs/production.md.
if env_bool("SECURE_COOKIES"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
# Behind a TLS-terminating proxy or load balancer that sets X-Forwarded-Proto (and strips it from
# clients' requests), so Django knows a request came over HTTPS. Never set it otherwise.
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

WAGTAIL_SITE_NAME = "Wagtail LTI example"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Wagtail's built-in avatars: editors' email hashes are not sent to gravatar.com, and the admin
# looks the same without internet access.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_LTI = {
    "PLATFORM_NAME": "Wagtail LTI example",
    "PLATFORM_CONTACT_EMAIL": "lti-admin@example.com",
    # Empty: the issuer is the request's scheme and host. Production sites fix it.
    "ISSUER": os.environ.get("LTI_ISSUER", ""),
    # Empty: derived from SECRET_KEY. Production sites set their own and keep it.
    "ENCRYPTION_KEY": os.environ.get("LTI_ENCRYPTION_KEY", ""),
    # Origins allowed to frame course pages, besides this site (see wagtail_lti.courses.framing).
    "FRAME_ANCESTORS": env_list("LTI_FRAME_ANCESTORS"),
    # The demo's tool runs on this machine (127.0.0.1, plain http): let the platform fetch its
    # keys there. On by default while DEBUG is; a production site keeps it off (public https only).
    "OUTBOUND_ALLOW_LOCAL": env_bool("LTI_OUTBOUND_ALLOW_LOCAL", DEBUG),
    # Platform notices are delivered by the worker of this TASKS alias (above).
    "NOTICE_TASK_BACKEND": "wagtail_lti",
}

# Background tasks. Wagtail's own (search and reference index updates) run at once in the request,
# as without a TASKS setting. wagtail-lti delivers platform notices to tools on its own alias:
# django-tasks' database backend, run by ``manage.py db_worker --backend wagtail_lti`` next to the
# web server (scripts/demo starts it; docs/production.md). TASKS_BACKEND names another backend of
# the same API for the notices.
# On Django 6 the tasks framework is Django's own (django.tasks, which django-tasks-db then uses);
# before, the backport django-tasks: the immediate backend is the one of the framework in use.
TASKS_IMMEDIATE_BACKEND = (
    "django.tasks.backends.immediate.ImmediateBackend"
    if django.VERSION >= (6,)
    else "django_tasks.backends.immediate.ImmediateBackend"
)
TASKS = {
    "default": {"BACKEND": TASKS_IMMEDIATE_BACKEND},
    "wagtail_lti": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    },
}

# Error pages and error reports hide settings and request headers/environment variables whose names
# look secret, including connection URLs that hold passwords (DATABASE_URL, CACHE_URL).
DEFAULT_EXCEPTION_REPORTER_FILTER = "example_site.reporting.SecretHidingExceptionReporterFilter"

# Logs go to standard error, one line each; request bodies, cookies and headers are never logged.
# LOG_LEVEL sets the level of the site's and the plugin's loggers (default INFO).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Replaces Django's default "django" logger configuration (console in DEBUG only, mail to
        # ADMINS): one console handler, whatever DEBUG says.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"level": "ERROR"},
        "django.security": {"level": "WARNING"},
        "wagtail_lti": {"level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

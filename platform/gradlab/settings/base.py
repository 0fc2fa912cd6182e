"""Settings shared by every environment. Everything that differs comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from gradlab.env import env_bool, env_choice, env_float, env_int, env_list, env_str

PLATFORM_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = PLATFORM_DIR.parent
VAR_DIR = Path(env_str("GRADLAB_VAR_DIR", str(REPO_DIR / "var")))
CONTENT_DIR = Path(env_str("GRADLAB_CONTENT_DIR", str(REPO_DIR / "content")))

SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "gradlab",
    "accounts",
    "courses",
    "quizzes",
    "cards",
    "authoring",
    "lab",
    "lti_tool",  # django-lti: LTI platforms, deployments, the tool's keys (before campus, which adapts its admin)
    "campus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "reversion",
    "axes",
]

MIDDLEWARE = [
    "gradlab.middleware.SecurityHeadersMiddleware",  # also on a response made from a middleware's exception
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Everything the pages load comes from this site: no inline scripts or styles, no eval
# (htmx is configured without it in base.html), no frames, forms that post only here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Health checks come from inside the deployment over plain HTTP, also where HTTPS is forced.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

ROOT_URLCONF = "gradlab.urls"
WSGI_APPLICATION = "gradlab.wsgi.application"
ASGI_APPLICATION = "gradlab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# WAL and immediate transactions let the web server and a worker write the same SQLite
# file without "database is locked" errors: a transaction that reads first and writes
# later cannot wait for a lock it would have to upgrade, and fails at once.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_from_url(url: str) -> dict:
    if url:
        # No persistent connections: under ASGI each request runs in a thread of its own,
        # and a connection kept past the request stays open in that finished thread (Django
        # says to disable them under ASGI); a kept one per finished thread ran PostgreSQL out
        # of connections. The web server borrows from a pool instead (gradlab/asgi.py turns it
        # on): connecting anew took about 6 ms of each request. Workers fork, and a pool must
        # not cross a fork, so they connect per task as before.
        database = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
        if DATABASE_POOL and database["ENGINE"].endswith("postgresql"):
            database.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 2,
                "max_size": env_int("DATABASE_POOL_SIZE", 10),
                # Seconds a request waits for a free connection; then it fails as a refused connection
                # does. Short: with the database down, every request waits this long for its 500.
                "timeout": env_float("DATABASE_POOL_TIMEOUT", 3.0),
            }
            database["CONN_HEALTH_CHECKS"] = False  # the pool checks a connection before lending it
        if database["ENGINE"].endswith("sqlite3"):  # a SQLite file named by URL: as the embedded one
            database["OPTIONS"] = SQLITE_OPTIONS | database.get("OPTIONS", {})
        return database
    # Embedded default: one SQLite file. Its folder is made here: on a fresh clone even the
    # first command's system checks open the database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "gradlab.sqlite3",
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASE_URL = env_str("DATABASE_URL")
DATABASE_POOL = env_bool("GRADLAB_DATABASE_POOL", False)
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The `{% cache %}` tag's: the lesson article, keyed on the content stamp in the database
    # (courses/stamp.py), so each process's own memory is enough and no page waits on, or
    # fails with, Redis. A few hundred lessons, a few tens of kB each.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}
if REDIS_URL:
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a login while the account or the address is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account,
# or from one address whatever the account, logging in pauses there for LOGIN_COOLOFF_S,
# counted from the last failure (failing again while locked starts the pause anew).
# Axes' own admins are registered by accounts.admin, with what every admin of the site shares.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # no "AXES: BEGIN" line on every manage.py command
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_COOLOFF_S", 15 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.client.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# Proxies in front of the web server that append to X-Forwarded-For: the client's address
# is the entry the outermost one wrote. 0 (the embedded default): the connection's peer.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Account e-mails (signup, password reset), per window: to one address, and asked for from
# one client address. Counted in the cache (Redis with REDIS_URL).
ACCOUNT_EMAIL_WINDOW_S = env_int("ACCOUNT_EMAIL_WINDOW_S", 3600)
ACCOUNT_EMAILS_PER_RECIPIENT = env_int("ACCOUNT_EMAILS_PER_RECIPIENT", 3)
ACCOUNT_EMAILS_PER_CLIENT = env_int("ACCOUNT_EMAILS_PER_CLIENT", 10)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:home"
LOGOUT_REDIRECT_URL = "courses:home"

LANGUAGE_CODE = "en"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PLATFORM_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Flashcards: py-fsrs spreads intervals a little at random so that cards learned together
# do not stay together; tests turn it off to compare with py-fsrs step by step.
CARDS_FSRS_FUZZING = env_bool("CARDS_FSRS_FUZZING", True)

# Who may create a new course in the browser (/author/new/): "instructors" (every member of
# the Instructors group, and admins) or "admins" (superusers only). The creator owns it.
AUTHORING_COURSE_CREATORS = env_choice("AUTHORING_COURSE_CREATORS", "instructors", ("instructors", "admins"))

# LTI 1.3 (campus): how long a launch waits for a platform's key set (JWKS) before it is refused.
CAMPUS_PLATFORM_TIMEOUT_S = env_float("CAMPUS_PLATFORM_TIMEOUT_S", 5.0)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The lab: Celery runs experiments. With REDIS_URL, Redis is the broker and carries the
# wake-ups of live pages; without it (the embedded default) a folder is the broker and
# live pages poll the database.
LAB_SANDBOX_SOCKET = env_str("LAB_SANDBOX_SOCKET", str(VAR_DIR / "sandbox.sock"))
LAB_RUN_TIMEOUT_S = env_int("LAB_RUN_TIMEOUT_S", 120)
LAB_MAX_ACTIVE_RUNS = env_int("LAB_MAX_ACTIVE_RUNS", 2)
LAB_DAILY_COMPUTE_S = env_int("LAB_DAILY_COMPUTE_S", 1800)
LAB_GPU_WORKERS = env_bool("LAB_GPU_WORKERS", False)
# A running run whose worker has not written a heartbeat for this long is ended as lost.
LAB_HEARTBEAT_S = env_int("LAB_HEARTBEAT_S", 2)
LAB_WORKER_LOST_S = env_int("LAB_WORKER_LOST_S", 30)
# A run still queued after this long (its message lost with a broker or a worker) is ended too.
LAB_QUEUE_MAX_WAIT_S = env_int("LAB_QUEUE_MAX_WAIT_S", 6 * 3600)
LAB_REAP_EVERY_S = env_int("LAB_REAP_EVERY_S", 15)
# Every worker stamps its heartbeat (and its sandbox service's, after a ping) this often; a
# service none has stamped for LAB_SERVICE_LOST_S is dead to /healthz and the lab. The
# scheduler, stamped by each reaper run, is given three reaper intervals at least.
LAB_SERVICE_BEAT_S = env_float("LAB_SERVICE_BEAT_S", 5.0)
LAB_SERVICE_LOST_S = env_float("LAB_SERVICE_LOST_S", 30.0)
LAB_SSE_KEEPALIVE_S = env_int("LAB_SSE_KEEPALIVE_S", 15)
LAB_SSE_POLL_S = env_float("LAB_SSE_POLL_S", 0.1)
# Live views of runs one learner may have open at once (per web process), and how long
# one lasts before it ends and the browser reconnects where it stopped (Last-Event-ID).
LAB_MAX_STREAMS_PER_USER = env_int("LAB_MAX_STREAMS_PER_USER", 6)
LAB_STREAM_MAX_S = env_float("LAB_STREAM_MAX_S", 300.0)

CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        # The folder is polled: every 50 ms keeps a run's start quick and costs a directory listing.
        "polling_interval": 0.05,
    }
    for folder in ("queue", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    # Above the longest run: Redis hands an unacknowledged task to another worker only
    # after this long, so a slow run is never started twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
# Above the sandbox's own limit, which ends the run first: these only catch a stuck worker.
CELERY_TASK_SOFT_TIME_LIMIT = LAB_RUN_TIMEOUT_S + 60
CELERY_TASK_TIME_LIMIT = LAB_RUN_TIMEOUT_S + 90
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mailer_from_env(default_backend: str) -> dict:
    backend = env_str("EMAIL_BACKEND", default_backend)
    options = {}
    if backend == SMTP_BACKEND:
        options = {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        }
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": mailer_from_env(SMTP_BACKEND)}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Gradlab <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

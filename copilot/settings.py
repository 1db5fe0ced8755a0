"""Settings for the copilot, read from the environment (see `.env.example`).

Production and development differ only by environment. With nothing set and `COPILOT_DEMO=true`
(what `make run` does) the app runs on SQLite and runs Celery tasks in process; with
`DATABASE_URL` and `REDIS_URL` it runs on PostgreSQL with Redis as Celery broker and cache.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEMO_MODE = env.bool("COPILOT_DEMO", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=DEMO_MODE)


def required_secret(name: str, demo_default: str) -> str:
    """A secret has no default outside the demo: a missing one stops start-up by name."""
    value = env.str(name, default="")
    if value:
        return value
    if DEMO_MODE:
        return demo_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is not set. Set it (see .env.example), "
        "or set COPILOT_DEMO=true to run the demo with built-in development values."
    )


SECRET_KEY = required_secret("DJANGO_SECRET_KEY", "demo-only-insecure-secret-key-do-not-deploy")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy the original scheme arrives in this header.
DJANGO_BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
if DJANGO_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "copilot",
    "copilot.webhooks",
    "copilot.inbox",
    "copilot.commerce",
    "copilot.replies",
    "intents",
    "cards",
    "axes",
]
# The fakes of Kustomer, Shopify and the model server (copilot/sandbox, served under /sandbox/):
# on in the demo and the tests. Only then are they installed, so a production database has none of
# their tables and its admin none of their pages.
COPILOT_SANDBOX = env.bool("COPILOT_SANDBOX", default=DEMO_MODE)
if COPILOT_SANDBOX:
    INSTALLED_APPS += ["copilot.sandbox.shopify", "copilot.sandbox.kustomer", "copilot.sandbox.llm"]

MIDDLEWARE = [
    "copilot.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]
# No page may be framed (X-Frame-Options: DENY, CSP frame-ancestors 'none'); the card's pages,
# which live in Kustomer's iframe, allow KUSTOMER_FRAME_ANCESTORS on their own responses.

ROOT_URLCONF = "copilot.urls"
WSGI_APPLICATION = "copilot.wsgi.application"
ASGI_APPLICATION = "copilot.asgi.application"

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
                "copilot.context_processors.operations",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATA_DIR = Path(env.str("COPILOT_DATA_DIR", default=str(BASE_DIR / "var")))
if DEMO_MODE:
    # `manage.py demo_setup` keeps the demo's generated keys (for the fake Kustomer) here.
    environ.Env.read_env(DATA_DIR / "demo.env", overwrite=False)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'copilot.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while a task writes; the busy timeout waits for a lock
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Short socket timeouts: a stopped or unreachable Redis must fail fast, never hang a request.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "copilot",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs every task in process, at enqueue time.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged only after it ran, so a worker that dies mid-task does not lose it;
# every task is written to be safe to run again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task of a worker that died is delivered again after this many seconds.
    # It must exceed the longest task, or a running task is delivered twice.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
    # How often a worker looks for such tasks (one cheap Redis query per sweep).
    "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    # A publish on a connection that died silently must fail, not wait forever.
    "socket_timeout": 10,
}
# Queued work is published (after commit, from a request or the sweep) on connections that wait
# this long for Redis, once: a hung Redis must not hold a webhook's answer. A publish that gives
# up leaves its stored row to the sweep. Workers and beat keep the longer timeouts above.
COPILOT_PUBLISH_TIMEOUT = env.float("COPILOT_PUBLISH_TIMEOUT", default=0.4)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "intents.tasks.train_model_version": {"queue": "training"},
    # Imports of past conversations share the training queue, never the live pipeline's.
    "intents.history_tasks.import_kustomer_history": {"queue": "training"},
}
# Queued work (webhook events, messages, order actions, notes, training runs) is swept this often:
# a task whose publish failed is queued at the next sweep, and an unfinished row with no task
# queued or started for COPILOT_REQUEUE_AFTER_SECONDS (a task lost with Redis, or with a worker
# killed mid-task) is queued again. Together they bound recovery after a fault to about 80 s.
# A task waiting for its retry counts from the time it is due, and nothing is queued again while
# its queue still holds tasks (a backlog is not a loss).
COPILOT_SWEEP_SECONDS = env.float("COPILOT_SWEEP_SECONDS", default=20.0)
COPILOT_REQUEUE_AFTER_SECONDS = env.int("COPILOT_REQUEUE_AFTER_SECONDS", default=60)
# Beat queues a heartbeat task this often; a worker that runs it records the time. No heartbeat
# for COPILOT_WORKER_STALE_SECONDS means no worker is consuming (/status/workers, admin banner).
COPILOT_HEARTBEAT_SECONDS = env.float("COPILOT_HEARTBEAT_SECONDS", default=15.0)
COPILOT_WORKER_STALE_SECONDS = env.float("COPILOT_WORKER_STALE_SECONDS", default=45.0)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "copilot.tasks.record_worker_heartbeat",
        "schedule": COPILOT_HEARTBEAT_SECONDS,
    },
    "sweep-queued-work": {
        "task": "copilot.tasks.sweep_queued_work",
        "schedule": COPILOT_SWEEP_SECONDS,
        # A sweep still queued when the next is due is dropped, not run late in a pile.
        "options": {"expires": max(COPILOT_SWEEP_SECONDS - 1, 1)},
    },
    "retrain-when-due": {
        "task": "intents.tasks.retrain_when_due",
        "schedule": 300.0,
        "options": {"expires": 299},
    },
}

# --- Webhooks ----------------------------------------------------------------------------------
# Every vendor that sends us webhooks, through the one intake (copilot.webhooks): how it signs,
# where its event id is and what each topic does live in its own module.
COPILOT_WEBHOOK_VENDORS = {
    "kustomer": "copilot.inbox.webhooks.KUSTOMER",
    "shopify": "copilot.commerce.webhooks.SHOPIFY",
}

# --- Kustomer ----------------------------------------------------------------------------------
COPILOT_PUBLIC_URL = env.str("COPILOT_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
KUSTOMER_API_BASE_URL = env.str(
    "KUSTOMER_API_BASE_URL",
    default=f"{COPILOT_PUBLIC_URL}/sandbox/kustomer" if DEMO_MODE else "",
).rstrip("/")
KUSTOMER_API_KEY = env.str("KUSTOMER_API_KEY", default="")
# Comma-separated: during a rotation both the old and the new token sign valid deliveries.
KUSTOMER_WEBHOOK_SECRET = env.list("KUSTOMER_WEBHOOK_SECRET", default=[])
KUSTOMER_WEBHOOK_MAX_BYTES = env.int("KUSTOMER_WEBHOOK_MAX_BYTES", default=256 * 1024)
KUSTOMER_INSIGHT_KLASS = env.str("KUSTOMER_INSIGHT_KLASS", default="copilot_insight")
# always: a note for every classified message; confident: only when the model did not abstain.
KUSTOMER_NOTES = env.str("KUSTOMER_NOTES", default="confident")
if KUSTOMER_NOTES not in {"always", "confident", "never"}:
    raise ImproperlyConfigured("KUSTOMER_NOTES must be always, confident or never.")
KUSTOMER_TAG_INTENT = env.bool("KUSTOMER_TAG_INTENT", default=False)
KUSTOMER_RATE_LIMIT_PER_MINUTE = env.int("KUSTOMER_RATE_LIMIT_PER_MINUTE", default=1000)
KUSTOMER_CUSTOMER_CREATES_PER_MINUTE = env.int("KUSTOMER_CUSTOMER_CREATES_PER_MINUTE", default=120)
KUSTOMER_TIMEOUT_SECONDS = env.float("KUSTOMER_TIMEOUT_SECONDS", default=10.0)
# Requests per minute the training UI's "Import from Kustomer" (preview and runs) may send: its
# own window, counted in the org-wide one too, so that the live pipeline keeps the rest. At most
# 100, Kustomer's search limit per API key.
KUSTOMER_IMPORT_REQUESTS_PER_MINUTE = env.int("KUSTOMER_IMPORT_REQUESTS_PER_MINUTE", default=60)
if not 1 <= KUSTOMER_IMPORT_REQUESTS_PER_MINUTE <= min(100, KUSTOMER_RATE_LIMIT_PER_MINUTE):
    raise ImproperlyConfigured(
        "KUSTOMER_IMPORT_REQUESTS_PER_MINUTE must be between 1 and 100, and at most "
        "KUSTOMER_RATE_LIMIT_PER_MINUTE."
    )
# Retries of a transient failure (timeout, 5xx) before a write shows as failed; waits for a rate
# limit are not counted, since they always end.
KUSTOMER_MAX_RETRIES = env.int("KUSTOMER_MAX_RETRIES", default=8)
# An unfinished message received this long ago is failed, for a person to retry from the admin.
INBOX_GIVE_UP_AFTER_SECONDS = env.int("INBOX_GIVE_UP_AFTER_SECONDS", default=24 * 3600)

# --- Intent model ------------------------------------------------------------------------------
# Seconds between each process's checks for a newly activated model version.
INTENT_MODEL_REFRESH_SECONDS = env.float("INTENT_MODEL_REFRESH_SECONDS", default=2.0)
# Fewest trusted examples an intent needs before a model can be trained on it.
INTENT_MIN_EXAMPLES = env.int("INTENT_MIN_EXAMPLES", default=10)
# Retraining without a person: every INTENT_RETRAIN_EVERY_HOURS (0: not on a schedule), or once
# INTENT_RETRAIN_AFTER_LABELS trusted labels were given since the last run (0: not on labels).
INTENT_RETRAIN_EVERY_HOURS = env.float("INTENT_RETRAIN_EVERY_HOURS", default=0.0)
INTENT_RETRAIN_AFTER_LABELS = env.int("INTENT_RETRAIN_AFTER_LABELS", default=100)
# A trained version goes live by itself only when, on the frozen evaluation set, its macro-F1 is
# at most INTENT_PROMOTE_MACRO_F1_TOLERANCE below the live version's and no intent's F1 falls by
# more than INTENT_PROMOTE_INTENT_F1_TOLERANCE; otherwise it waits for a person, with the reason.
INTENT_AUTO_PROMOTE = env.bool("INTENT_AUTO_PROMOTE", default=True)
INTENT_PROMOTE_MACRO_F1_TOLERANCE = env.float("INTENT_PROMOTE_MACRO_F1_TOLERANCE", default=0.01)
INTENT_PROMOTE_INTENT_F1_TOLERANCE = env.float("INTENT_PROMOTE_INTENT_F1_TOLERANCE", default=0.05)
# Agents whose intent labels from the card are trusted examples at once instead of waiting in
# the training UI's queue: "user:<Kustomer user id>" or "role:<Kustomer role>", comma-separated.
INTENT_TRUSTED_LABELLERS = env.list("INTENT_TRUSTED_LABELLERS", default=[])
# Seed of the train/hold-out split and the model, so a training run can be reproduced.
INTENT_TRAINING_SEED = env.int("INTENT_TRAINING_SEED", default=0)

# --- Shopify -----------------------------------------------------------------------------------
# The GraphQL Admin API version every call uses (quarterly; each is supported for 12 months).
SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2026-10")
# The app's client secret, which signs webhooks. Comma-separated during a rotation (new,old):
# Shopify may sign with the old one for up to an hour.
# (An empty variable counts as unset here and below, as `.env.example` leaves them empty.)
SHOPIFY_WEBHOOK_SECRET = [s for s in env.list("SHOPIFY_WEBHOOK_SECRET", default=[]) if s] or (
    ["demo-shopify-webhook-secret"] if DEMO_MODE else []
)
SHOPIFY_WEBHOOK_MAX_BYTES = env.int("SHOPIFY_WEBHOOK_MAX_BYTES", default=1024 * 1024)
# A delivery whose X-Shopify-Triggered-At is older than this is refused as a replay. Shopify retries
# a failed delivery for 4 hours, so the window is a little longer.
SHOPIFY_WEBHOOK_MAX_AGE_SECONDS = env.int("SHOPIFY_WEBHOOK_MAX_AGE_SECONDS", default=5 * 3600)
# Where Shopify should send webhooks (registered when a store is connected).
SHOPIFY_WEBHOOK_URL = (
    env.str("SHOPIFY_WEBHOOK_URL", default="") or f"{COPILOT_PUBLIC_URL}/shopify/webhooks/"
)
# Fernet key(s) encrypting stores' access tokens at rest; comma-separated during a rotation, the
# new key first (it encrypts; every key decrypts).
SHOPIFY_TOKEN_ENCRYPTION_KEY = required_secret(
    "SHOPIFY_TOKEN_ENCRYPTION_KEY", "ZGVtby1vbmx5LXNob3BpZnktdG9rZW4ta2V5LTMyYnk="
)
# A first store from the environment (more are added in the admin). In the demo it is the fake
# Shopify's "Northwind Goods", served by this same server.
SHOPIFY_SHOP_DOMAIN = env.str("SHOPIFY_SHOP_DOMAIN", default="") or (
    "northwind-goods.myshopify.com" if DEMO_MODE else ""
)
SHOPIFY_ACCESS_TOKEN = env.str("SHOPIFY_ACCESS_TOKEN", default="") or (
    "shpat_sandbox_northwind_goods" if DEMO_MODE else ""
)
# Empty: https://<shop domain>. Set it to point the store at the fake Shopify.
SHOPIFY_API_BASE_URL = (
    env.str("SHOPIFY_API_BASE_URL", default="")
    or (f"{COPILOT_PUBLIC_URL}/sandbox/shopify" if DEMO_MODE else "")
).rstrip("/")
# Seconds before a Shopify call gives up: background work, and reads an agent waits on.
SHOPIFY_TIMEOUT_SECONDS = env.float("SHOPIFY_TIMEOUT_SECONDS", default=10.0)
SHOPIFY_CARD_TIMEOUT_SECONDS = env.float("SHOPIFY_CARD_TIMEOUT_SECONDS", default=4.0)
# A customer's orders are served from the cache for this many seconds (webhooks drop them
# sooner); an older copy is kept this much longer, shown marked stale when Shopify is busy.
SHOPIFY_ORDER_CACHE_SECONDS = env.int("SHOPIFY_ORDER_CACHE_SECONDS", default=300)
SHOPIFY_ORDER_CACHE_STALE_SECONDS = env.int("SHOPIFY_ORDER_CACHE_STALE_SECONDS", default=86400)
# Refunds above this amount (in the store's currency) wait for a supervisor (card or admin).
SHOPIFY_REFUND_APPROVAL_THRESHOLD = env.str("SHOPIFY_REFUND_APPROVAL_THRESHOLD", default="100.00")
# Who may do what from the card: per action, a list of "*" (every signed-in agent),
# "role:<Kustomer role>" or "user:<Kustomer user id>".
_DEFAULT_ACTION_PERMISSIONS = {
    "refund": ["*"],
    "cancel": ["*"],
    "address_update": ["*"],
    "invoice_send": ["*"],
    # Kustomer's supervisors and admins can read the org's users; agents cannot.
    "refund_approve": ["role:org.user.user.read"],
}
SHOPIFY_ACTION_PERMISSIONS = (
    env.json("SHOPIFY_ACTION_PERMISSIONS")
    if env.str("SHOPIFY_ACTION_PERMISSIONS", default="")
    else _DEFAULT_ACTION_PERMISSIONS
)
# The fake Shopify (mounted under /sandbox/shopify/ when COPILOT_SANDBOX is true).
# Its cost bucket per shop (Standard plan: 2,000 points restoring 100/s), the HTTP status of a
# THROTTLED answer (200 as Shopify usually does, or 429), a latency added to every answer, the
# seconds its asynchronous cancel job takes, whether the app is approved for protected customer
# data, and the secret that signs its webhooks (the first SHOPIFY_WEBHOOK_SECRET by default).
SANDBOX_SHOPIFY_BUCKET_SIZE = env.float("SANDBOX_SHOPIFY_BUCKET_SIZE", default=2000.0)
SANDBOX_SHOPIFY_RESTORE_RATE = env.float("SANDBOX_SHOPIFY_RESTORE_RATE", default=100.0)
SANDBOX_SHOPIFY_THROTTLE_STATUS = env.int("SANDBOX_SHOPIFY_THROTTLE_STATUS", default=200)
SANDBOX_SHOPIFY_LATENCY_MS = env.float("SANDBOX_SHOPIFY_LATENCY_MS", default=0.0)
SANDBOX_SHOPIFY_CANCEL_JOB_SECONDS = env.float("SANDBOX_SHOPIFY_CANCEL_JOB_SECONDS", default=1.0)
SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA = env.bool(
    "SANDBOX_SHOPIFY_PROTECTED_CUSTOMER_DATA", default=True
)
SANDBOX_SHOPIFY_WEBHOOK_SECRET = env.str("SANDBOX_SHOPIFY_WEBHOOK_SECRET", default="") or (
    SHOPIFY_WEBHOOK_SECRET[0] if SHOPIFY_WEBHOOK_SECRET else "sandbox-shopify-secret"
)

# --- Sandbox: fake Kustomer ---------------------------------------------------------------------
# The fake Kustomer API (copilot/sandbox/kustomer, docs/sandbox.md), mounted under
# /sandbox/kustomer/ when COPILOT_SANDBOX is true. Requests per rolling minute for the whole org
# (Kustomer's Enterprise plan) and creates per customer per minute; an artificial delay added to
# every request (benchmarks); a factor on Kustomer's webhook retry schedule (1, 1, 2, 5, 10, 15,
# 30 minutes; tests use a tiny one); whether messages carry the unconfirmed full `body`; and
# whether webhooks may use plain http to 127.0.0.1/localhost (Kustomer itself demands https).
SANDBOX_KUSTOMER_ORG_RATE_LIMIT = env.int("SANDBOX_KUSTOMER_ORG_RATE_LIMIT", default=1000)
SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT = env.int(
    "SANDBOX_KUSTOMER_CUSTOMER_CREATE_LIMIT", default=120
)
SANDBOX_KUSTOMER_LATENCY_MS = env.int("SANDBOX_KUSTOMER_LATENCY_MS", default=0)
SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE = env.float(
    "SANDBOX_KUSTOMER_WEBHOOK_RETRY_SCALE", default=1.0
)
SANDBOX_KUSTOMER_MESSAGE_BODY = env.bool("SANDBOX_KUSTOMER_MESSAGE_BODY", default=True)
SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS = env.bool(
    "SANDBOX_KUSTOMER_ALLOW_HTTP_WEBHOOKS", default=True
)
# The fake's sign-in for apps (OAuth 2.0 with PKCE) and Drafts API: how long access and refresh
# tokens live, new drafts per customer per minute (Kustomer: 120), and whether redirect URIs may
# use plain http on 127.0.0.1/localhost (the demo; Kustomer itself demands https).
SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS = env.int(
    "SANDBOX_KUSTOMER_OAUTH_ACCESS_TOKEN_SECONDS", default=3600
)
SANDBOX_KUSTOMER_OAUTH_REFRESH_TOKEN_SECONDS = env.int(
    "SANDBOX_KUSTOMER_OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600
)
SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT = env.int(
    "SANDBOX_KUSTOMER_CUSTOMER_DRAFT_LIMIT", default=120
)
# Searches (POST /v1/customers/search) per API key per rolling minute (Kustomer: 100).
SANDBOX_KUSTOMER_SEARCH_RATE_LIMIT = env.int("SANDBOX_KUSTOMER_SEARCH_RATE_LIMIT", default=100)
SANDBOX_KUSTOMER_ALLOW_HTTP_REDIRECT_URIS = env.bool(
    "SANDBOX_KUSTOMER_ALLOW_HTTP_REDIRECT_URIS", default=True
)

# --- Replies and LLM ---------------------------------------------------------------------------
# Suggested replies (copilot/replies): up to REPLIES_MAX_DRAFTS drafts per inbound message, made by
# any OpenAI-compatible server (OpenAI, Azure OpenAI's /openai/v1, vLLM, Ollama...) and checked
# against the facts. An empty OPENAI_BASE_URL means no model: drafts come from the org's Kustomer
# shortcuts and the reply templates only. The demo talks to the fake server under /sandbox/llm/.
OPENAI_BASE_URL = env.str(
    "OPENAI_BASE_URL", default=f"{COPILOT_PUBLIC_URL}/sandbox/llm/v1" if DEMO_MODE else ""
).rstrip("/")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="sk-sandbox-demo-key" if DEMO_MODE else "")
if OPENAI_BASE_URL and not OPENAI_API_KEY:
    raise ImproperlyConfigured(
        "The environment variable OPENAI_API_KEY is not set, but OPENAI_BASE_URL is. Set it (a "
        "self-hosted server that checks no key accepts any value), or empty OPENAI_BASE_URL to "
        "make drafts from shortcuts and templates only."
    )
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
# A draft is worth little once the agent has opened the card: give up early and use the fallback.
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=8.0)
# No retries in line: the fallback answers at once instead (the card can ask for new drafts).
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=0)
# response_format json_object; turn off for servers that reject it (the answer is then parsed
# from its JSON block).
OPENAI_JSON_MODE = env.bool("OPENAI_JSON_MODE", default=True)
OPENAI_TEMPERATURE = env.float("OPENAI_TEMPERATURE", default=0.3)
OPENAI_MAX_TOKENS = env.int("OPENAI_MAX_TOKENS", default=800)
# Price per 1,000 tokens (the account's currency), to record each draft's cost.
OPENAI_PROMPT_PRICE_PER_1K = env.str("OPENAI_PROMPT_PRICE_PER_1K", default="0.00015")
OPENAI_COMPLETION_PRICE_PER_1K = env.str("OPENAI_COMPLETION_PRICE_PER_1K", default="0.0006")
REPLIES_MAX_DRAFTS = env.int("REPLIES_MAX_DRAFTS", default=3)
if not 1 <= REPLIES_MAX_DRAFTS <= 3:
    raise ImproperlyConfigured("REPLIES_MAX_DRAFTS must be 1, 2 or 3.")
# How many of the conversation's latest messages the prompt holds.
REPLIES_RECENT_MESSAGES = env.int("REPLIES_RECENT_MESSAGES", default=10)
# Read those messages from Kustomer (agents' replies included; one request of the org's rate
# limit per message after a conversation's first), or use the customer's messages stored here.
REPLIES_HISTORY_FROM_KUSTOMER = env.bool("REPLIES_HISTORY_FROM_KUSTOMER", default=True)
# Kustomer shortcuts and customers are read once per this many seconds (they change rarely and
# every read spends the org's rate limit).
REPLIES_KUSTOMER_CACHE_SECONDS = env.int("REPLIES_KUSTOMER_CACHE_SECONDS", default=300)
# The language of drafts when the customer's cannot be told (en, es, fr or de are detected).
REPLIES_DEFAULT_LANGUAGE = env.str("REPLIES_DEFAULT_LANGUAGE", default="en")
# Who signs a draft when the card does not say which agent reads it (KObject, admin).
REPLIES_SIGN_OFF = env.str("REPLIES_SIGN_OFF", default="The support team")
# The fake OpenAI-compatible server (mounted under /sandbox/llm/ when COPILOT_SANDBOX is true):
# the keys it accepts, a delay added to every answer, what it answers (grounded, invented_order,
# malformed, timeout, rate_limited, server_error; a request header or its control endpoint
# can override it), how long "timeout" hangs, and the retry-after of its 429s.
SANDBOX_LLM_API_KEYS = env.list("SANDBOX_LLM_API_KEYS", default=["sk-sandbox-demo-key"])
SANDBOX_LLM_LATENCY_MS = env.float("SANDBOX_LLM_LATENCY_MS", default=0.0)
SANDBOX_LLM_SCENARIO = env.str("SANDBOX_LLM_SCENARIO", default="grounded")
SANDBOX_LLM_HANG_SECONDS = env.float("SANDBOX_LLM_HANG_SECONDS", default=30.0)
SANDBOX_LLM_RETRY_AFTER_SECONDS = env.int("SANDBOX_LLM_RETRY_AFTER_SECONDS", default=20)

# --- Auth, i18n, static ------------------------------------------------------------------------
# Staff logins (admin, training UI) are throttled: after AXES_FAILURE_LIMIT failures in a row for
# one username, or from one address, logins are refused for AXES_COOLOFF_MINUTES with a sentence
# saying so (HTTP 429). Unlock sooner: `manage.py axes_reset_username <name>` or
# `axes_reset_ip <address>`, or delete the attempt in the admin (Axes, Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "copilot.security.client_ip"
AXES_LOCKOUT_CALLABLE = "copilot.security.lockout"
# Never the password, and not the username either: logs are not a list of staff accounts.
AXES_VERBOSE = True
AXES_SENSITIVE_PARAMETERS = ["username", "password"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- The card (Kustomer's Insight Panel) ------------------------------------------------------
# "Sign in with Kustomer" (OAuth 2.0 for apps, authorization code with PKCE): the app's client id
# (the app's `clientId` after `POST /v1/apps/available`) and, for a confidential client, its
# secret; the authorize page lives on the org's web host (https://<org>.kustomerapp.com). The org
# is the one the API key belongs to unless KUSTOMER_ORG_ID names it; agents of any other org are
# refused.
KUSTOMER_WEB_BASE_URL = (
    env.str("KUSTOMER_WEB_BASE_URL", default="") or KUSTOMER_API_BASE_URL
).rstrip("/")
KUSTOMER_OAUTH_CLIENT_ID = env.str("KUSTOMER_OAUTH_CLIENT_ID", default="")
KUSTOMER_OAUTH_CLIENT_SECRET = env.str("KUSTOMER_OAUTH_CLIENT_SECRET", default="")
KUSTOMER_ORG_ID = env.str("KUSTOMER_ORG_ID", default="")
# An agent's card session ends after this many seconds without a request, and in any case this
# long after signing in.
CARD_SESSION_IDLE_SECONDS = env.int("CARD_SESSION_IDLE_SECONDS", default=2 * 3600)
CARD_SESSION_MAX_SECONDS = env.int("CARD_SESSION_MAX_SECONDS", default=12 * 3600)
# How often an open card asks whether the conversation has news (a conditional request that
# costs one cheap query when nothing changed).
CARD_POLL_SECONDS = env.float("CARD_POLL_SECONDS", default=1.5)
# Kustomer's Cards SDK, the one script the card loads from elsewhere: Kustomer's CDN, or the fake
# Kustomer's stand-in (same calls) in the sandbox.
KUSTOMER_CARD_SDK_URL = env.str("KUSTOMER_CARD_SDK_URL", default="") or (
    f"{KUSTOMER_API_BASE_URL}/card-js/kustomer-card.js"
    if COPILOT_SANDBOX and KUSTOMER_API_BASE_URL
    else "https://cdn.kustomerapp.com/card-js/latest/kustomer-card.min.js"
)
KUSTOMER_CARD_SDK_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(KUSTOMER_CARD_SDK_URL))

# --- Security headers --------------------------------------------------------------------------
# The card is shown inside Kustomer's iframe: only Kustomer's origins may frame the card's pages.
# The demo's Kustomer stand-in frames the card from the other name of this machine (localhost
# for 127.0.0.1 and the reverse), so that the frame is cross-site as it is inside Kustomer.
_DEMO_HOST_ORIGINS = [
    COPILOT_PUBLIC_URL,
    COPILOT_PUBLIC_URL.replace("//127.0.0.1", "//localhost")
    if "//127.0.0.1" in COPILOT_PUBLIC_URL
    else COPILOT_PUBLIC_URL.replace("//localhost", "//127.0.0.1"),
]
KUSTOMER_FRAME_ANCESTORS = [
    origin for origin in env.list("KUSTOMER_FRAME_ANCESTORS", default=[]) if origin
] or (_DEMO_HOST_ORIGINS if DEMO_MODE else ["https://*.kustomerapp.com"])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sent only on HTTPS responses (behind the proxy: DJANGO_BEHIND_PROXY), so plain-HTTP development
# and health checks are untouched.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Redirecting to HTTPS is the proxy's job: here it would also redirect a load balancer's
# plain-HTTP health checks. Set it where no proxy redirects.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
# Preloading commits every subdomain of the domain to HTTPS for good: the domain owner's call.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# `manage.py check --deploy` is clean but for these, each for the reason given above.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_SSL_REDIRECT else ["security.W008"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    # Django's cookies serve first-party pages only (the admin, the training UI, sign-in pages);
    # the framed card keeps its own partitioned cookie (cards/sessions.py), so these stay
    # SameSite=Lax, Django's default.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "copilot.observability.ContextFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(context_id)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log replaces runserver's and Django's own per-request lines.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "celery": {"level": "INFO"},
        # httpx logs whole URLs, which can carry customer emails: our clients log their own line.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

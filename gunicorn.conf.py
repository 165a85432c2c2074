"""gunicorn settings for `make serve` (docs/deployment.md); every value can be set from the environment.

GUNICORN_BIND      where to listen (default 127.0.0.1:8000: behind a reverse proxy on this host)
WEB_CONCURRENCY    worker processes (default 2 x CPUs + 1, at most 8)
GUNICORN_TIMEOUT   seconds before a stuck worker is restarted (default 120: a large meeting pack
                   PDF takes about 0.7 s per case)
NETCARE_TRUSTED_PROXIES  the proxies whose X-Forwarded-* headers are believed (default: this host)
LOG_FORMAT         json (default): gunicorn's own lines as JSON too, and no access log, since the
                   app logs each request with its id (netcare/logging.py); text: the classic lines
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so that a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
# Load the app once before forking: a broken setting stops start-up instead of every worker failing.
preload_app = True
forwarded_allow_ips = os.environ.get("NETCARE_TRUSTED_PROXIES", "127.0.0.1,::1")
errorlog = "-"
if os.environ.get("LOG_FORMAT", "json").strip().lower() == "json":
    # The app writes the request line (with its request id); gunicorn's own messages become JSON.
    accesslog = None
    # Complete, not a patch: gunicorn replaces its defaults key by key.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "netcare.logging.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
else:
    # Method, path, status, size and time: never the query string (searches hold hospital references).
    accesslog = "-"
    access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# Requests with an over-long request line or header block are refused before Django sees them.
limit_request_line = 8190
limit_request_fields = 100
# gunicorn 23+'s control socket defaults to one path per user: a second gunicorn on the host (a
# second site, the tests) would take it over. NETcare does not use it.
control_socket_disable = True

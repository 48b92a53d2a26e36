"""Structured logs: one JSON object per line, and what may go in them.

Production (web.gunicorn_conf) sends every logger through `JsonFormatter` to stderr, where the
container runtime or journald collects it. What the apps log is chosen so that no personal data is
in it: requests are logged by URL rule (`/invite/<token>`, never the token or a query string),
outcomes by verdict and SHA-256, staff actions by ids; names, birth dates, phone numbers, e-mail
addresses and bank accounts are never passed to a logger (`tests/conftest.py` scans every log
record of the test run for the test rosters' values and fails the run on a match).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

# LogRecord attributes that are not extra fields
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extra fields, "exc"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


#: `logging.config.dictConfig` settings for production (gunicorn's `logconfig_dict`)
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "web.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        # gunicorn's and uvicorn's access lines carry the raw path (tokens): the apps log requests by rule
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        "uvicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}

"""The baseline of ``run.py``: the least a Flask view can do, served by the same gunicorn.

One view returns a fixed HTML page of ``BASELINE_BYTES`` bytes (``run.py`` sets it to the size
of the module page it compares with); no database, no session, no template. Its throughput
is what this machine, gunicorn and Flask allow at best::

    BASELINE_BYTES=20000 gunicorn -w 2 -b 127.0.0.1:8001 --chdir benchmarks baseline_app:app
"""

from __future__ import annotations

import os

from flask import Flask

SIZE = int(os.environ.get("BASELINE_BYTES", "20000"))
HEAD = "<!doctype html><html lang=en><head><meta charset=utf-8><title>Baseline</title></head><body>"
TAIL = "</body></html>"
PARAGRAPH = "<p>Client-centricity means starting from what the person in front of you needs.</p>\n"
BODY = (PARAGRAPH * (max(0, SIZE - len(HEAD) - len(TAIL)) // len(PARAGRAPH) + 1))[
    : max(0, SIZE - len(HEAD) - len(TAIL))
]
PAGE = HEAD + BODY + TAIL

app = Flask(__name__)


@app.get("/")
def page() -> str:
    return PAGE


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}

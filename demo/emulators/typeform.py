"""A local Typeform Responses API emulator serving the generator's survey files.

    python -m demo.emulators.typeform --data-dir .demo/typeform --port 8092 --token demo-token

Implements ``GET /forms/{form_id}/responses`` as Typeform documents it:
items newest first (``submitted_at`` descending); ``since`` and ``until``
(inclusive; ISO 8601 or Unix seconds); ``before=<token>`` for the items
after that one in this order, which is how a client pages; ``page_size``
(default 25, at most 1000); ``total_items`` and ``page_count`` count what
the filters leave. An empty ``items`` list ends the paging.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

from demo.emulators.common import (
    Emulator,
    HTTPError,
    Reply,
    Request,
    serve,
    serve_one_from_command_line,
)

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 25, 1000
CODES = {400: "VALIDATION_ERROR", 401: "AUTHENTICATION_FAILED", 404: "FORM_NOT_FOUND",
         405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMIT_EXCEEDED", 500: "INTERNAL_ERROR",
         503: "SERVICE_UNAVAILABLE"}


def start(data_dir: str | Path, token: str, host: str = "127.0.0.1", port: int = 0,
          rate_limit: tuple[int, float] | None = None, fail_first: int = 0,
          fail_every: int = 0) -> Emulator:
    """Serve the forms and responses in ``data_dir`` in a background thread."""
    return serve(Typeform(data_dir), token, host, port, rate_limit, fail_first, fail_every)


class Typeform:
    def __init__(self, data_dir: str | Path):
        folder = Path(data_dir)
        forms = json.loads((folder / "forms.json").read_text(encoding="utf-8"))
        self.responses: dict[str, list[dict]] = {}
        for form in forms:
            path = folder / f"responses_{form['id']}.json"
            items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
            self.responses[form["id"]] = sorted(
                items, key=lambda i: (_instant(i["submitted_at"]), i["token"]), reverse=True)
        self.routes = [
            ("GET", re.compile(r"/forms/(?P<form_id>[^/]+)/responses"), self.list_responses),
        ]

    def error_body(self, status: int, message: str) -> dict:
        return {"code": CODES.get(status, "INTERNAL_ERROR"), "description": message}

    def list_responses(self, request: Request) -> Reply:
        form_id = request.params["form_id"]
        if form_id not in self.responses:
            raise HTTPError(404, f"Form {form_id!r} not found.")
        items = self.responses[form_id]
        page_size = _page_size(request.query.get("page_size"))
        before = request.query.get("before")
        if before:
            position = next((n for n, item in enumerate(items) if item["token"] == before), None)
            if position is None:
                raise HTTPError(400, f"Unknown response token {before!r} in 'before'.")
            items = items[position + 1:]
        since, until = _bound(request.query, "since"), _bound(request.query, "until")
        items = [i for i in items
                 if (since is None or _instant(i["submitted_at"]) >= since)
                 and (until is None or _instant(i["submitted_at"]) <= until)]
        return Reply(200, {"total_items": len(items),
                           "page_count": math.ceil(len(items) / page_size),
                           "items": items[:page_size]})


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bound(query: dict[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if not value:
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        return _instant(value)
    except ValueError:
        raise HTTPError(400, f"{name} must be ISO 8601 or Unix seconds, got {value!r}.") from None


def _page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise HTTPError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    return int(value)


def main(argv: list[str] | None = None) -> None:
    serve_one_from_command_line(argv, name="Typeform", start=start, port=8092, rate_limit="2/1",
                                data_help="the generator's OUT/typeform folder")


if __name__ == "__main__":
    main()

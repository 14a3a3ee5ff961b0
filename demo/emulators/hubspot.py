"""A local HubSpot CRM v3 emulator serving the generator's portal files.

    python -m demo.emulators.hubspot --data-dir .demo/hubspot --port 8091 --token demo-token

Implements what the pipeline uses, as HubSpot documents it:

- ``POST /crm/v3/objects/{type}/search`` for companies, deals, p_cmi_assessment,
  p_csm_sentiment and tasks: filter groups (OR of ANDed filters) with
  EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN (at most 100 values each; text
  matched regardless of case),
  HAS_PROPERTY, NOT_HAS_PROPERTY; dates compare as instants whether given as epoch ms or
  ISO 8601; sorts; ``limit`` (default 10, at most 200) and offset ``after``
  tokens; at most 10,000 results per search, like the real API.
- ``GET /crm/v3/owners`` with ``limit`` (at most 500) and ``after``.
- ``GET /crm/v3/objects/{type}/{id}``.
- Tasks for delivery: ``POST /crm/v3/objects/tasks`` (201),
  ``POST /crm/v3/objects/tasks/batch/create`` (201; at most 100 inputs, and
  all or nothing: one invalid input refuses the whole call with a 400 and
  creates none, as HubSpot does without ``objectWriteTraceId`` multi-status)
  and ``PATCH /crm/v3/objects/tasks/{id}`` (a CSM completing one). Tasks are
  kept in memory and in ``tasks.json`` beside the data, so they survive a
  restart and can be inspected.

A requested property the portal does not define is left out of the answer,
as HubSpot does (a property renamed in the portal simply stops coming); one it
defines but a record lacks comes as null. The portal defines HubSpot's
standard properties of the type plus every property stored on any of its
records.

Demo conveniences beyond the real API: a search without ``properties``
returns every stored property (HubSpot returns a default few).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
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

READ_ONLY_TYPES = ("companies", "deals", "p_csm_sentiment", "p_cmi_assessment")
SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, SEARCH_RESULT_CAP = 10, 200, 10_000
OWNERS_DEFAULT_LIMIT, OWNERS_MAX_LIMIT = 100, 500
BATCH_MAX_INPUTS, FILTER_MAX_VALUES = 100, 100
FIRST_TASK_ID = 90_000_000_001
NUMBER = re.compile(r"-?\d+(\.\d+)?")
CATEGORIES = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 404: "OBJECT_NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMITS", 500: "INTERNAL_ERROR",
              503: "SERVICE_UNAVAILABLE"}


def start(data_dir: str | Path, token: str, host: str = "127.0.0.1", port: int = 0,
          rate_limit: tuple[int, float] | None = None, fail_first: int = 0,
          fail_every: int = 0) -> Emulator:
    """Serve the portal in ``data_dir`` in a background thread."""
    return serve(HubSpot(data_dir), token, host, port, rate_limit, fail_first, fail_every)


def hubspot_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpot:
    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.objects = {kind: self._load(kind) for kind in (*READ_ONLY_TYPES, "tasks")}
        self.owners = json.loads((self.data_dir / "owners.json").read_text(encoding="utf-8"))
        self._tasks_lock = threading.Lock()
        one_object = r"/crm/v3/objects/(?P<object_type>[^/]+)/(?P<object_id>[^/]+)"
        self.routes = [
            ("POST", re.compile(r"/crm/v3/objects/(?P<object_type>[^/]+)/search"), self.search),
            ("GET", re.compile(r"/crm/v3/owners/?"), self.list_owners),
            ("POST", re.compile(r"/crm/v3/objects/tasks"), self.create_task),
            ("POST", re.compile(r"/crm/v3/objects/tasks/batch/create"), self.create_tasks),
            ("GET", re.compile(one_object), self.read),
            ("PATCH", re.compile(r"/crm/v3/objects/tasks/(?P<object_id>[^/]+)"), self.update_task),
        ]

    def error_body(self, status: int, message: str) -> dict:
        return {"status": "error", "message": message,
                "category": CATEGORIES.get(status, "INTERNAL_ERROR")}

    def _load(self, kind: str) -> dict[str, dict]:
        path = self.data_dir / f"{kind}.json"
        items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        return {item["id"]: item for item in items}

    def _of_type(self, object_type: str) -> dict[str, dict]:
        if object_type not in self.objects:
            raise HTTPError(404, f"Unknown object type {object_type!r}.")
        return self.objects[object_type]

    def search(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        objects = list(self._of_type(request.params["object_type"]).values())
        limit = _bounded_int(body.get("limit", SEARCH_DEFAULT_LIMIT), "limit", SEARCH_MAX_LIMIT)
        offset = _offset(body.get("after"))
        if offset + limit > SEARCH_RESULT_CAP:
            raise HTTPError(400, f"Search results are capped at {SEARCH_RESULT_CAP}; "
                                 "narrow the filters instead of paging further.")
        groups = body.get("filterGroups") or []
        for spec in (f for g in groups for f in g.get("filters") or []):
            if len(spec.get("values") or []) > FILTER_MAX_VALUES:
                raise HTTPError(400, f"{spec.get('operator')} accepts at most {FILTER_MAX_VALUES} values, "
                                     f"got {len(spec['values'])}.")
        tests = [[_matcher(f) for f in g.get("filters") or []] for g in groups]
        matches = [o for o in objects if not tests or any(all(test(o) for test in group) for group in tests)]
        matches.sort(key=lambda o: int(o["id"]))
        for sort in reversed(body.get("sorts") or []):
            name = sort.get("propertyName")
            matches.sort(key=lambda o: _sort_key(_value(o, name)),
                         reverse=sort.get("direction") == "DESCENDING")
        defined = _defined_properties(request.params["object_type"], objects)
        reply = {"total": len(matches),
                 "results": [_render(o, body.get("properties"), defined)
                             for o in matches[offset:offset + limit]]}
        if offset + limit < len(matches):
            reply["paging"] = {"next": {"after": str(offset + limit)}}
        return Reply(200, reply)

    def list_owners(self, request: Request) -> Reply:
        limit = _bounded_int(request.query.get("limit", OWNERS_DEFAULT_LIMIT), "limit",
                             OWNERS_MAX_LIMIT)
        offset = _offset(request.query.get("after"))
        reply = {"results": self.owners[offset:offset + limit]}
        if offset + limit < len(self.owners):
            reply["paging"] = {"next": {"after": str(offset + limit)}}
        return Reply(200, reply)

    def read(self, request: Request) -> Reply:
        objects = self._of_type(request.params["object_type"])
        found = objects.get(request.params["object_id"])
        if found is None:
            raise HTTPError(404, f"Object {request.params['object_id']} not found.")
        wanted = request.query.get("properties")
        return Reply(200, _render(found, wanted.split(",") if wanted else None))

    def create_task(self, request: Request) -> Reply:
        (task,) = self._create_tasks([request.body])
        return Reply(201, _render(task, None))

    def create_tasks(self, request: Request) -> Reply:
        """Batch create: every input is checked before any is stored, so a refused call created nothing."""
        inputs = request.body.get("inputs") if isinstance(request.body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise HTTPError(400, "The body needs a non-empty 'inputs' array.")
        if len(inputs) > BATCH_MAX_INPUTS:
            raise HTTPError(400, f"Batch create accepts at most {BATCH_MAX_INPUTS} inputs, got {len(inputs)}.")
        started = hubspot_now()
        tasks = self._create_tasks(inputs)
        return Reply(201, {"status": "COMPLETE", "results": [_render(t, None) for t in tasks],
                           "startedAt": started, "completedAt": hubspot_now()})

    def _create_tasks(self, bodies: list) -> list[dict]:
        checked = []
        for body in bodies:
            properties = _properties_of(body)
            if not properties.get("hs_timestamp"):
                raise HTTPError(400, "Property hs_timestamp is required for tasks.")
            checked.append((properties, body.get("associations") or []))
        now = hubspot_now()
        with self._tasks_lock:
            tasks = self.objects["tasks"]
            next_id = max(map(int, tasks), default=FIRST_TASK_ID - 1) + 1
            created = []
            for offset, (properties, associations) in enumerate(checked):
                task_id = str(next_id + offset)
                tasks[task_id] = {
                    "id": task_id,
                    "properties": properties | {"hs_createdate": now, "hs_lastmodifieddate": now},
                    "createdAt": now,
                    "updatedAt": now,
                    "archived": False,
                    "associations": associations,
                }
                created.append(tasks[task_id])
            self._save_tasks()
        return created

    def update_task(self, request: Request) -> Reply:
        changes = _properties_of(request.body)
        now = hubspot_now()
        with self._tasks_lock:
            task = self.objects["tasks"].get(request.params["object_id"])
            if task is None:
                raise HTTPError(404, f"Task {request.params['object_id']} not found.")
            task["properties"] |= changes | {"hs_lastmodifieddate": now}
            task["updatedAt"] = now
            self._save_tasks()
        return Reply(200, _render(task, None))

    def _save_tasks(self) -> None:
        path = self.data_dir / "tasks.json"
        temporary = path.with_suffix(".json.tmp")
        tasks = sorted(self.objects["tasks"].values(), key=lambda t: int(t["id"]))
        temporary.write_text(json.dumps(tasks, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def _properties_of(body: object) -> dict[str, str | None]:
    """HubSpot stores every property value as a string."""
    properties = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(properties, dict):
        raise HTTPError(400, "The body needs a 'properties' object.")
    return {k: None if v is None else str(v) for k, v in properties.items()}


def _bounded_int(value: object, name: str, maximum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPError(400, f"{name} must be an integer.") from None
    if not 1 <= number <= maximum:
        raise HTTPError(400, f"{name} must be between 1 and {maximum}.")
    return number


def _offset(after: object) -> int:
    if after in (None, ""):
        return 0
    try:
        offset = int(after)
    except (TypeError, ValueError):
        raise HTTPError(400, f"Invalid paging token {after!r}.") from None
    if offset < 0:
        raise HTTPError(400, f"Invalid paging token {after!r}.")
    return offset


def _value(obj: dict, name: str | None) -> str | None:
    if name in ("id", "hs_object_id"):
        return obj["id"]
    return obj["properties"].get(name)


def _comparable(value: object) -> tuple[int, float | str] | None:
    """Numbers and instants (epoch ms or ISO 8601) compare as numbers, the rest as text."""
    if value is None:
        return None
    text = str(value).strip()
    if NUMBER.fullmatch(text):
        return 0, float(text)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return 1, text
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return 0, instant.timestamp() * 1000


def _sort_key(value: object) -> tuple:
    comparable = _comparable(value)
    return (1,) if comparable is None else (0, *comparable)


def _matcher(spec: dict) -> Callable[[dict], bool]:
    """One filter as a test of an object; its values are parsed once per search, not once per object
    (an IN of 100 markers over a portal's tasks parsed 100 values per task)."""
    operator = spec.get("operator")
    name = spec.get("propertyName")

    def actual(obj: dict) -> tuple | None:
        return _comparable(_value(obj, name))

    if operator == "HAS_PROPERTY":
        return lambda obj: actual(obj) is not None
    if operator == "NOT_HAS_PROPERTY":
        return lambda obj: actual(obj) is None
    if operator in ("IN", "NOT_IN"):  # text matches regardless of case, as HubSpot's IN does
        listed = {_folded(_comparable(v)) for v in spec.get("values") or []}

        def listed_test(obj: dict) -> bool:
            found = actual(obj)
            return (_folded(found) in listed) == (operator == "IN") and found is not None
        return listed_test
    wanted = _comparable(spec.get("value"))
    if operator == "BETWEEN":
        high = _comparable(spec.get("highValue"))

        def between(obj: dict) -> bool:
            found = actual(obj)
            return _ordered(found, wanted) and _ordered(found, high) and wanted <= found <= high
        return between
    comparisons = {
        "EQ": lambda a, b: a == b, "NEQ": lambda a, b: a != b,
        "LT": lambda a, b: a < b, "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b, "GTE": lambda a, b: a >= b,
    }
    if operator not in comparisons:
        raise HTTPError(400, f"Unsupported filter operator {operator!r}.")
    compare = comparisons[operator]
    if operator in ("EQ", "NEQ"):
        return lambda obj: (found := actual(obj)) is not None and compare(found, wanted)
    return lambda obj: _ordered(found := actual(obj), wanted) and compare(found, wanted)


def _folded(comparable: tuple | None) -> tuple | None:
    return (1, comparable[1].casefold()) if comparable and comparable[0] == 1 else comparable


def _ordered(a: tuple | None, b: tuple | None) -> bool:
    """Both present and of one kind (number or text), so they can be ordered."""
    return a is not None and b is not None and a[0] == b[0]


# HubSpot's own properties of each type (a few of many): defined in every portal.
STANDARD_PROPERTIES = {
    "companies": {"name", "domain", "industry", "numberofemployees", "hs_parent_company_id", "hubspot_owner_id",
                  "lifecyclestage", "createdate", "hs_lastmodifieddate", "hs_object_id", "country", "state"},
    "deals": {"dealname", "amount", "closedate", "dealstage", "pipeline", "hubspot_owner_id", "createdate",
              "hs_lastmodifieddate", "hs_object_id"},
}


def _defined_properties(object_type: str, objects: list[dict]) -> set[str]:
    """What the portal defines for a type: HubSpot's standard properties and every one stored on a record."""
    return STANDARD_PROPERTIES.get(object_type, set()).union(*(o["properties"] for o in objects))


def _render(obj: dict, wanted: list[str] | None, defined: set[str] | None = None) -> dict:
    """The object as the API answers: requested properties (those the portal defines) plus the ones HubSpot always adds."""
    stored = obj["properties"]
    properties = dict(stored) if not wanted else {
        name: stored.get(name) for name in wanted if defined is None or name in defined}
    properties |= {
        "hs_object_id": obj["id"],
        "createdate": stored.get("createdate") or obj["createdAt"],
        "hs_lastmodifieddate": stored["hs_lastmodifieddate"],
    }
    return {"id": obj["id"], "properties": properties, "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"], "archived": obj["archived"]}


def main(argv: list[str] | None = None) -> None:
    serve_one_from_command_line(argv, name="HubSpot", start=start, port=8091, rate_limit="100/10",
                                data_help="the generator's OUT/hubspot folder")


if __name__ == "__main__":
    main()

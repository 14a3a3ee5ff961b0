"""The sample-data generator: deterministic, extendable, honest about its bad
rows, and with outcomes that behaviour predicts."""

from __future__ import annotations

import csv
import hashlib
import json
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

from demo.bulk import fill_product_db_bulk, write_events_file
from demo.generate import DEFAULT_END_DATE as END_DATE
from demo.generate import generate


def file_digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def database_digests(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM app.{table} t"
        ).fetchone()[0] for table in ("organizations", "members", "subscriptions", "events")}


def load_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parses_as_date(text: str | None) -> bool:
    try:
        date.fromisoformat(text or "")
    except ValueError:
        return False
    return True


def parses_as_instant(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_same_arguments_give_identical_files_and_database(tmp_path, database_url):
    url = database_url()
    arguments = dict(accounts=25, days=40, seed=7, end_date=END_DATE, product_db_url=url)

    generate(tmp_path / "first", **arguments)
    first_database = database_digests(url)
    generate(tmp_path / "second", **arguments)  # over the same database: re-runs are safe

    assert file_digests(tmp_path / "first") == file_digests(tmp_path / "second")
    assert database_digests(url) == first_database
    generate(tmp_path / "other_seed", **(arguments | {"seed": 8}))
    assert file_digests(tmp_path / "other_seed") != file_digests(tmp_path / "first")


def test_a_later_end_date_only_adds_what_happened_after(tmp_path, database_url):
    before_url, after_url = database_url(), database_url()
    new_day = END_DATE + timedelta(days=1)
    generate(tmp_path / "before", 25, 40, 7, END_DATE, before_url)
    generate(tmp_path / "after", 25, 41, 7, new_day, after_url)

    def events(url: str) -> set[tuple]:
        with psycopg.connect(url) as conn:
            return set(conn.execute("SELECT * FROM app.events"))

    old, new = events(before_url), events(after_url)
    assert old < new
    assert {row[4].date() for row in new - old} == {new_day}

    for name in ("companies", "deals", "p_csm_sentiment"):
        earlier = {o["id"]: o for o in load_json(tmp_path / "before" / "hubspot" / f"{name}.json")}
        later = {o["id"]: o for o in load_json(tmp_path / "after" / "hubspot" / f"{name}.json")}
        assert earlier.keys() <= later.keys()
        for object_id, obj in later.items():
            if earlier.get(object_id) != obj:  # changed or new: only by something on the new day
                assert obj["properties"]["hs_lastmodifieddate"].startswith(new_day.isoformat())

    def responses(run: str, form: str) -> dict[str, dict]:
        items = load_json(tmp_path / run / "typeform" / f"responses_{form}.json")
        return {item["token"]: item for item in items}

    for form in ("nps-relationship", "cmi-assessment"):
        earlier, later = responses("before", form), responses("after", form)
        assert all(later[token] == item for token, item in earlier.items())
        assert all(item["submitted_at"].startswith(new_day.isoformat())
                   for token, item in later.items() if token not in earlier)


def test_manifest_lists_exactly_the_bad_rows_in_the_data(demo_data):
    out, url, _ = demo_data
    manifest = load_json(out / "manifest.json")
    companies = {c["id"] for c in load_json(out / "hubspot" / "companies.json")}
    found: set[tuple[str, str, str, str]] = set()

    def check_account(source: str, stream: str, row_id: str, account_id: str | None) -> None:
        if not account_id:
            kind = "deal_without_account_id" if stream in ("deals", "expansions", "contracts") \
                else "response_without_account_id"
            found.add((source, stream, kind, row_id))
        elif account_id not in companies:
            found.add((source, stream, "unknown_account_id", row_id))

    with psycopg.connect(url) as conn:
        for org_id, company_id, events in conn.execute(
                "SELECT o.id, o.crm_company_id, count(e.id) FROM app.organizations o "
                "LEFT JOIN app.events e ON e.organization_id = o.id GROUP BY 1, 2"):
            if company_id is None or company_id not in companies:
                assert events > 0, "a bad organisation should also produce unmappable events"
                kind = "null_crm_company_id" if company_id is None else "unknown_crm_company_id"
                found.add(("product_db", "organizations", kind, str(org_id)))

    for deal in load_json(out / "hubspot" / "deals.json"):
        props = deal["properties"]
        check_account("hubspot", "deals", deal["id"], props["account_id"])
        if props["deal_kind"] == "contract" and not parses_as_date(props["renewal_date"]):
            found.add(("hubspot", "deals", "unparseable_renewal_date", deal["id"]))
    for entry in load_json(out / "hubspot" / "p_csm_sentiment.json"):
        check_account("hubspot", "p_csm_sentiment", entry["id"], entry["properties"]["account_id"])
        if entry["properties"]["sentiment"] not in ("1", "2", "3"):
            found.add(("hubspot", "p_csm_sentiment", "sentiment_out_of_range", entry["id"]))

    stamp = f"{END_DATE:%Y%m%d}"
    for row in read_csv(out / "crm_csv" / f"contracts_{stamp}.csv"):
        check_account("crm_csv", "contracts", row["contract_id"], row["account_id"])
        if not parses_as_date(row["end_date"]):
            found.add(("crm_csv", "contracts", "unparseable_renewal_date", row["contract_id"]))
    for row in read_csv(out / "crm_csv" / f"expansions_{stamp}.csv"):
        check_account("crm_csv", "expansions", row["expansion_id"], row["account_id"])
    for row in read_csv(out / "crm_csv" / f"sentiment_{stamp}.csv"):
        check_account("crm_csv", "sentiment", row["entry_id"], row["account_id"])
        if row["sentiment"] not in ("1", "2", "3"):
            found.add(("crm_csv", "sentiment", "sentiment_out_of_range", row["entry_id"]))

    for form_id, valid in (("nps-relationship", {"nps": range(11), "csat": range(1, 6)}),
                           ("cmi-assessment", None)):
        for item in load_json(out / "typeform" / f"responses_{form_id}.json"):
            check_account("typeform", form_id, item["token"], item["hidden"].get("account_id"))
            for answer in item["answers"]:
                allowed = valid[answer["field"]["ref"]] if valid else range(1, 6)
                if answer["number"] not in allowed:
                    found.add(("typeform", form_id, f"{answer['field']['ref']}_out_of_range",
                               item["token"]))

    answers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_csv(out / "survey_csv" / f"csat_{stamp}.csv"):
        answers[row["response_id"], row["question_id"]].add(row["answer"])
        if not parses_as_instant(row["submitted_at"]):
            found.add(("survey_csv", "csat", "unparseable_submitted_at", row["response_id"]))
    found |= {("survey_csv", "csat", "conflicting_duplicate", response_id)
              for (response_id, _), values in answers.items() if len(values) > 1}

    listed = {(r["source"], r["stream"], r["kind"], r["id"]) for r in manifest["bad_rows"]}
    assert found == listed
    assert {source for source, *_ in listed} == {
        "product_db", "hubspot", "crm_csv", "typeform", "survey_csv"}


def test_churn_shows_in_usage_and_nps_before_it_happens(demo_data):
    out, url, _ = demo_data
    start = date.fromisoformat(load_json(out / "manifest.json")["start_date"])
    logins_per_member: dict[str, list[float]] = defaultdict(list)
    churned_accounts = set()
    with psycopg.connect(url) as conn:
        for deal in load_json(out / "hubspot" / "deals.json"):
            props = deal["properties"]
            if props["contract_status"] == "churned":
                churned_accounts.add(props["account_id"])
            if props["contract_status"] not in ("churned", "renewed"):
                continue
            end = date.fromisoformat(props["renewal_date"])
            if not start + timedelta(days=60) <= end <= END_DATE:
                continue
            window = {"account": props["account_id"], "lo": end - timedelta(days=60), "hi": end}
            logins, members = conn.execute("""
                SELECT (SELECT count(*) FROM app.events e
                        WHERE e.organization_id = o.id AND e.name = 'login'
                          AND e.created_at >= %(lo)s AND e.created_at < %(hi)s),
                       (SELECT count(*) FROM app.members m
                        WHERE m.organization_id = o.id AND m.created_at < %(hi)s
                          AND (m.removed_at IS NULL OR m.removed_at > %(lo)s))
                FROM app.organizations o WHERE o.crm_company_id = %(account)s
            """, window).fetchone()
            logins_per_member[props["contract_status"]].append(logins / max(members, 1))

    assert len(logins_per_member["churned"]) >= 3 and len(logins_per_member["renewed"]) >= 3
    assert statistics.mean(logins_per_member["churned"]) \
        < 0.85 * statistics.mean(logins_per_member["renewed"])

    scores: dict[bool, list[int]] = defaultdict(list)
    for item in load_json(out / "typeform" / "responses_nps-relationship.json"):
        account = item["hidden"].get("account_id")
        for answer in item["answers"]:
            if answer["field"]["ref"] == "nps" and answer["number"] <= 10 and account:
                scores[account in churned_accounts].append(answer["number"])
    assert statistics.mean(scores[True]) < statistics.mean(scores[False]) - 1


def test_product_database_is_created_keyed_and_indexed(demo_data):
    _, url, counts = demo_data
    with psycopg.connect(url) as conn:
        indexes = {row[0] for row in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'app' AND tablename = 'events'")}
        events, = conn.execute("SELECT count(*) FROM app.events").fetchone()
        analyzed, = conn.execute(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE schemaname = 'app' AND relname = 'events'").fetchone()
    assert any("btree (created_at)" in index for index in indexes)
    assert any("UNIQUE" in index and "(id)" in index for index in indexes)
    assert events == counts["events"] > 0
    assert analyzed


def test_events_file_is_canonical_ordered_and_repeatable(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_events_file(first, 5, 2_000, seed=3, days=10, end_date=END_DATE) == 2_000
    write_events_file(second, 5, 2_000, seed=3, days=10, end_date=END_DATE)
    rows = read_csv(first)

    assert first.read_bytes() == second.read_bytes()
    assert list(rows[0]) == ["event_id", "account_id", "user_id", "event_name", "occurred_at",
                             "duration_seconds"]
    assert len({r["event_id"] for r in rows}) == 2_000
    stamps = [r["occurred_at"] for r in rows]
    assert stamps == sorted(stamps)
    assert stamps[0] >= f"{END_DATE - timedelta(days=9)}" and stamps[-1] < f"{END_DATE}T24"
    assert len({r["account_id"] for r in rows}) == 5


def test_bulk_product_fill_is_consistent_and_repeatable(database_url):
    url = database_url()
    fill_product_db_bulk(url, accounts=4, events=3_000, seed=3, days=10, end_date=END_DATE)
    digests = database_digests(url)
    fill_product_db_bulk(url, accounts=4, events=3_000, seed=3, days=10, end_date=END_DATE)
    assert database_digests(url) == digests
    with psycopg.connect(url) as conn:
        orphans, outside, events = conn.execute("""
            SELECT count(*) FILTER (WHERE m.id IS NULL),
                   count(*) FILTER (WHERE e.created_at < %s OR e.created_at >= %s),
                   count(*)
            FROM app.events e LEFT JOIN app.members m
              ON m.id = e.member_id AND m.organization_id = e.organization_id
        """, [END_DATE - timedelta(days=9), END_DATE + timedelta(days=1)]).fetchone()
    assert (orphans, outside, events) == (0, 0, 3_000)

"""Generate the demo's sample data: a product database, a HubSpot portal and
Typeform account (as files the emulators serve), and CSV exports.

    python -m demo.generate --out .demo --accounts 300 --days 180 --seed 7 \\
        --end-date 2026-11-22 --product-db-url postgresql://postgres@127.0.0.1:5432/product_demo

Why it looks the way it does:

- Deterministic: the same arguments give byte-identical files and identical
  database content. Safe to re-run: the ``app`` schema is replaced, files are
  rewritten.
- Incremental: the world does not depend on the window (see ``demo.world``),
  so a later ``--end-date`` only adds days. With the window's start kept
  (``--extra-days K`` moves the end date and grows ``--days`` by K), the output
  is a superset: earlier events, responses and entries are unchanged, and CRM
  objects differ only where something changed after the old end date (their
  ``hs_lastmodifieddate`` says when). CSV exports are named by end date, so a
  later run adds the next export next to the earlier one, like a drop folder.
- Bad rows are planted on purpose, few and listed in ``manifest.json`` (source,
  stream, kind, id) so tests can assert the quarantine reasons:
  product DB: organisation 1 has no ``crm_company_id``; organisation 2 points at
  a deleted CRM company. HubSpot and CRM CSV: a deal without ``account_id``, a
  ``renewal_date`` of ``31/02/2026``, a deal for an unknown company, a sentiment
  of 7. Typeform: an NPS of 11, an empty hidden ``account_id``, an unknown
  account. CSAT CSV: an unparseable ``submitted_at``, a response id repeated
  with a different answer.

Output layout under OUT: ``manifest.json``; ``hubspot/{companies,deals,owners,
p_csm_sentiment}.json``; ``typeform/forms.json`` and
``typeform/responses_<form_id>.json``; ``crm_csv/{accounts,contracts,
expansions,sentiment,owners}_<YYYYMMDD>.csv``; ``survey_csv/csat_<YYYYMMDD>.csv``;
``snapshots/{crm_accounts,crm_contracts,licences,users}_<YYYYMMDD>.csv``: the
CRM and product as they stood every 30 days, which ``make demo`` loads as
dated snapshots so that past days read what was known then (``demo.history``).
The HubSpot emulator adds ``hubspot/tasks.json``; it is never overwritten here,
so tasks survive a re-run (delete OUT to start over).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

from demo import crm, history, product_db, surveys
from demo.world import WORLD_ANCHOR, build_world, simulate_voice

DEFAULT_OUT = ".demo"
DEFAULT_ACCOUNTS = 300
DEFAULT_DAYS = 180
DEFAULT_SEED = 7
DEFAULT_END_DATE = WORLD_ANCHOR  # the day the world's story is told at
DEFAULT_PRODUCT_DB_URL = "postgresql://postgres@127.0.0.1:5432/product_demo"


def generate(out_dir: str | Path = DEFAULT_OUT, accounts: int = DEFAULT_ACCOUNTS,
             days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED,
             end_date: date = DEFAULT_END_DATE,
             product_db_url: str = DEFAULT_PRODUCT_DB_URL) -> dict[str, int]:
    """Write every demo source for the window of ``days`` days ending on
    ``end_date`` (inclusive); returns the row counts (also in the manifest)."""
    if accounts < 1 or days < 4:
        raise ValueError("need at least 1 account and 4 days (bad rows sit on days 1-3)")
    out = Path(out_dir)
    start = end_date - timedelta(days=days - 1)
    world = build_world(accounts, seed)
    voice = simulate_voice(world, start, end_date, seed)

    objects, crm_bad = crm.hubspot_objects(world, voice, start, end_date)
    for name, items in objects.items():
        _write_json(out / "hubspot" / f"{name}.json", items)
    stamp = f"{end_date:%Y%m%d}"
    canonical = crm.canonical_rows(objects)
    for stream, rows in canonical.items():
        _write_csv(out / "crm_csv" / f"{stream}_{stamp}.csv", crm.CANONICAL_COLUMNS[stream], rows)

    responses, typeform_bad = surveys.typeform_responses(world, voice, start)
    _write_json(out / "typeform" / "forms.json", surveys.FORMS)
    for form_id, items in responses.items():
        _write_json(out / "typeform" / f"responses_{form_id}.json", items)
    csat, csat_bad = surveys.csat_rows(world, voice, start)
    _write_csv(out / "survey_csv" / f"csat_{stamp}.csv", surveys.CSAT_COLUMNS, csat)

    counts = product_db.load(product_db_url, world, start, end_date, seed)
    counts["snapshots"] = history.write_snapshots(out, world, start, end_date)
    counts |= {
        "accounts": len(objects["companies"]),
        "deals": len(objects["deals"]),
        "contracts": len(canonical["contracts"]),
        "expansions": len(canonical["expansions"]),
        "sentiment_entries": len(objects["p_csm_sentiment"]),
        "owners": len(objects["owners"]),
        "nps_responses": len(responses[surveys.NPS_FORM_ID]),
        "cmi_responses": len(responses[surveys.CMI_FORM_ID]),
        "csat_rows": len(csat),
    }
    _write_json(out / "manifest.json", {
        "seed": seed,
        "accounts": accounts,
        "start_date": start.isoformat(),
        "end_date": end_date.isoformat(),
        "typeform_forms": {"nps": surveys.NPS_FORM_ID, "cmi": surveys.CMI_FORM_ID},
        "counts": counts,
        "bad_rows": [
            *product_db.BAD_ROWS, *crm_bad, *typeform_bad, *csat_bad,
        ],
        # The hidden story, for evaluating scores; never a pipeline input.
        "truth": {"trajectory": {a.company_id: a.trajectory for a in world.accounts
                                 if a.exists_on(end_date)}},
    })
    return counts


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.generate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default %(default)s)")
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help="window length in days, ending on --end-date")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE,
                        help="last day of the window, YYYY-MM-DD (default %(default)s)")
    parser.add_argument("--extra-days", type=int, default=0,
                        help="extend the window by K days past --end-date, keeping its start")
    parser.add_argument("--product-db-url",
                        default=os.environ.get("PRODUCT_DB_URL", DEFAULT_PRODUCT_DB_URL),
                        help="product database (default $PRODUCT_DB_URL or the local demo one)")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    counts = generate(args.out, args.accounts, args.days + args.extra_days, args.seed,
                      args.end_date + timedelta(days=args.extra_days), args.product_db_url)
    seconds = time.perf_counter() - began
    print(f"generated {counts['events']:,} events, {counts['accounts']} accounts, "
          f"{counts['deals']} deals, {counts['nps_responses']} NPS and "
          f"{counts['cmi_responses']} CMI responses into {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()

"""Command line: ``python -m customer_health <command>``.

    migrate                     apply pending warehouse migrations
    validate-config             check every YAML in include/config, print problems
    validate-scorecards [FILE]  check a scorecards file; with FILE, a dry run against the current one:
                                band changes, movers, changed keys, the CSM tasks it would create and close
    score [--day D] [--history-days N]   build KPIs and score outside Airflow
    ingest SOURCE [STREAM ...]  run a source's loads outside Airflow (debugging)
    quarantine [--source S] [--stream T]
                                show what waits in quarantine, grouped by kind of reason, with examples
    quarantine release (--id N ... | --stream T [--kind K] [--source S])
                                check those rows again now (after fixing their cause) and load the ones that pass
    quarantine acknowledge (--id N ... | --stream T [--kind K] [--source S]) --note TEXT
                                close entries that need nothing more, saying why
    evaluate [--version V] [--horizon H ...] [--report FILE] [--no-backfill]
                                does the score foresee churn? writes marts.evaluation_*, prints the verdicts
    backtest CANDIDATE.yml [--from D] [--to D] [--horizon H ...]
                                re-score history under a candidate, judge both on identical rows
    fit-scorecard --out FILE [--horizon H] [--segment S]
                                fit a readable candidate scorecard from the warehouse's history
                                (--segment: only scorecard S, the others kept as live)
"""
from __future__ import annotations

import argparse
from datetime import date, timedelta
import logging
import sys

import psycopg

from customer_health.config import ConfigError
from customer_health.scoring.dry_run import NothingToCompare
from customer_health.warehouse.db import WarehouseUnavailable, connect, describe, ensure_database, warehouse_url
from customer_health.warehouse.migrate import migrate
from customer_health.warehouse.sqlfiles import fetch_sql_file, run_sql_file


def cmd_migrate(_args) -> int:
    url = warehouse_url()
    if ensure_database(url):
        print(f"created database {describe(url)}")
    with connect(url) as conn:
        applied = migrate(conn)
    print("\n".join(f"applied {name}" for name in applied) or f"{describe(url)}: schema up to date")
    return 0


def cmd_validate_config(_args) -> int:
    from customer_health.config.sources import load_sources

    from customer_health.config.scorecards import load_scorecards

    sources = load_sources()
    print(f"sources.yml: {len(sources)} sources, {sum(len(s.streams) for s in sources.values())} streams - OK")
    config, version = load_scorecards()
    print(f"scorecards.yml: {len(config.scorecards)} scorecards, version {version} - OK")
    from customer_health.config.cmi import load_cmi
    from customer_health.config.kpis import load_kpis
    from customer_health.config.playbooks import load_playbooks

    print(f"kpis.yml: version {load_kpis()[1]} - OK")
    print(f"cmi.yml: version {load_cmi()[1]} - OK")
    playbooks, playbooks_version = load_playbooks()
    print(f"playbooks.yml: {len(playbooks.plays)} plays, version {playbooks_version} - OK")
    return _check_config_against_data(load_kpis()[0])


def _check_config_against_data(kpis_config) -> int:
    """With a warehouse at hand, the YAML is also read against the data: event names that match
    nothing make KPIs that are zero for everyone, which no schema check can see."""
    from customer_health.evaluation.evaluate import frame

    try:
        conn = connect()
    except WarehouseUnavailable as exc:
        print(f"no warehouse reachable, data checks skipped ({str(exc).splitlines()[0]})")
        return 0
    with conn:
        configured = sorted({kpis_config.login_event, *kpis_config.core_actions, *kpis_config.milestones})
        declared = sorted({e for entry in kpis_config.custom().values() for e in getattr(entry.spec, "events", None) or []})
        try:
            known = int(frame(conn, "evaluation/event_names_known.sql")["known"].iloc[0])
            unused = list(frame(conn, "evaluation/unused_event_names.sql", {"configured": configured})["name"])
            others = list(frame(conn, "evaluation/event_names_not_configured.sql",
                                {"configured": configured + declared})["name"])
            recorded = set(frame(conn, "evaluation/event_names_not_configured.sql", {"configured": []})["name"])
            custom_warnings = [] if not known else _custom_kpis_without_events(conn, kpis_config, recorded)
            constant = _constant_kpis(conn)
        except psycopg.errors.UndefinedTable:
            print("warehouse not migrated yet, data checks skipped (run `python -m customer_health migrate`)")
            return 0
    for name in constant:
        print(f"WARNING kpis.yml: KPI {name!r} had one value for every account over the last 30 days of "
              "marts.account_daily_kpis: it cannot tell accounts apart (no data behind it, or its events never occur)")
    if not known:
        # The names come from the dictionary the KPI build keeps: before the first build every name
        # would look unused, which is not what the data says.
        print("kpis.yml: event names not checked against the data: no KPI build has read the events yet "
              "(run `python -m customer_health score`, or the build_health_scores DAG, then validate again)")
        return 0
    for warning in custom_warnings:
        print(warning)
    for name in unused:
        print(f"WARNING kpis.yml: event {name!r} never occurs in staging.usage_events: every KPI counting it is zero")
    if unused:
        print(f"kpis.yml: {len(unused)} of {len(configured)} configured event names never occur. The product sends "
              f"these, which kpis.yml names nowhere: {', '.join(others) or 'none'} (counts: SELECT event_name, count(*) "
              "FROM staging.usage_events GROUP BY 1 ORDER BY 2 DESC). Map them under login_event, core_actions and "
              "milestones, then rebuild history (README: Another product's events).")
    else:
        print(f"kpis.yml: all {len(configured)} configured event names occur in the data - OK")
    return 0


def _custom_kpis_without_events(conn, kpis_config, recorded: set[str]) -> list[str]:
    """A warning per custom KPI of kpis.yml whose events (names or pattern) never occur in the recorded event names."""
    from customer_health.evaluation.evaluate import frame  # noqa: PLC0415

    warnings = []
    for name, entry in kpis_config.custom().items():
        events, pattern = getattr(entry.spec, "events", None), getattr(entry.spec, "events_matching", None)
        missing = [e for e in events or [] if e not in recorded]
        if missing:
            warnings.append(f"WARNING kpis.yml: kpis.{name}: event {', '.join(map(repr, missing))} never occurs in "
                            f"staging.usage_events" + (": the KPI is zero (or NULL) for everyone" if len(missing) == len(events) else ""))
        if pattern is not None and not int(frame(conn, "evaluation/event_names_matching.sql",
                                                 {"pattern": pattern})["matching"].iloc[0]):
            warnings.append(f"WARNING kpis.yml: kpis.{name}: events_matching {pattern!r} matches no event name in "
                            "staging.usage_events: the KPI is zero (or NULL) for everyone")
    return warnings


def _constant_kpis(conn) -> list[str]:
    """Numeric KPIs (standard and custom) that held one value for all accounts over the mart's last 30 days."""
    from psycopg import sql  # noqa: PLC0415

    from customer_health.config.kpi_catalog import numeric_kpis  # noqa: PLC0415
    from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file  # noqa: PLC0415

    columns = {r["name"] for r in fetch_sql_file(conn, "kpis/custom/mart_columns.sql")}
    names = sorted(n for n in numeric_kpis() if n in columns)
    if not names:
        return []
    tests = sql.SQL(", ").join(sql.SQL("(min({0}) IS NOT DISTINCT FROM max({0}) AND count({0}) IN (0, count(*))) AS {0}").format(sql.Identifier(n))
                               for n in names)
    row = fetch_one_sql_file(conn, "evaluation/constant_kpis.sql", constant_tests=tests)
    return [n for n in names if row[n]] if any(row.values()) and _mart_has_rows(conn) else []


def _mart_has_rows(conn) -> bool:
    from customer_health.warehouse.sqlfiles import fetch_one_sql_file  # noqa: PLC0415

    return fetch_one_sql_file(conn, "kpis/custom/mart_span.sql")["first_day"] is not None


def cmd_validate_scorecards(args) -> int:
    from pathlib import Path

    from customer_health.config.scorecards import load_scorecards, scorecards_path

    path = Path(args.file) if args.file else scorecards_path()
    config, version = load_scorecards(path)
    print(f"{path}: {len(config.scorecards)} scorecards, version {version} - OK")
    if args.file and Path(args.file).resolve() != scorecards_path().resolve():
        from customer_health.playbooks.pipeline import preview_candidate_tasks
        from customer_health.scoring.dry_run import dry_run

        with connect() as conn:
            print(dry_run(conn, path, date.fromisoformat(args.day) if args.day else None,
                          also=preview_candidate_tasks).render())
    return 0


def cmd_score(args) -> int:
    from customer_health.scoring.pipeline import build_and_score

    day = date.fromisoformat(args.day) if args.day else date.today() - timedelta(days=1)
    for result in build_and_score(day, args.history_days):
        stale = f"  stale: {', '.join(s.stream for s in result.stale_streams)}" if result.stale_streams else ""
        print(f"{result.day}: {result.accounts} accounts {result.bands}{stale}")
    return 0


def cmd_ingest(args) -> int:
    from customer_health.config.sources import load_sources
    from customer_health.sources.ingest import ingest_stream

    sources = load_sources()
    if args.source not in sources:
        print(f"unknown source {args.source!r}; sources.yml has: {', '.join(sources)}", file=sys.stderr)
        return 2
    streams = args.streams or list(sources[args.source].streams)
    for stream in streams:
        result = ingest_stream(args.source, stream, sources=sources, run_id="cli")
        print(
            f"{args.source}.{stream}: received {result.rows_received}, inserted {result.rows_inserted}, "
            f"updated {result.rows_updated}, unchanged {result.rows_unchanged}, quarantined {result.rows_quarantined} "
            f"({result.path} path)"
        )
        for note in result.notes:
            print(f"  note: {note}")
    return 0


def _quarantine_selection(args) -> dict:
    if not args.id and not args.stream:
        raise LookupError("name the entries: --id N (repeat for several), or --stream T with --kind K and --source S "
                          "to narrow it (see `python -m customer_health quarantine` for ids and kinds)")
    return {"ids": args.id or None, "source": args.source, "stream": args.stream, "kind": args.kind}


def cmd_quarantine(args) -> int:
    if args.action == "release":
        return _quarantine_release(args)
    if args.action == "acknowledge":
        return _quarantine_acknowledge(args)
    params = {"source": args.source, "stream": args.stream}
    with connect() as conn:
        rows = fetch_sql_file(conn, "cli/quarantine_summary.sql", params)
        closed = fetch_sql_file(conn, "cli/quarantine_closed_counts.sql", params)
    for r in rows:
        print(f"{r['source']}.{r['stream']}: {r['quarantined']} x {r['reason_kind']}")
        for example in r["examples"]:
            print(f"    {example}")
    if not rows:
        print("quarantine is empty")
    if closed:
        print("closed: " + ", ".join(f"{r['entries']} {r['how']}" for r in closed))
    return 0


def _quarantine_release(args) -> int:
    from customer_health.sources.ingest import load_released

    with connect() as conn:
        streams = fetch_sql_file(conn, "cli/quarantine_request_release.sql", _quarantine_selection(args))
        conn.commit()
    if not streams:
        print("no open quarantine entries match")
        return 1
    for s in streams:
        if s["refused"]:
            print(f"{s['source']}.{s['stream']}: {s['refused']} entries not released: their values had to be altered "
                  "to be stored (NUL bytes, oversized or ragged rows); fix the source and load it again, or acknowledge them")
    for s in (s for s in streams if s["requested"]):
        result = load_released(s["source"], s["stream"])
        print(f"{s['source']}.{s['stream']}: released {s['requested']}: inserted {result.rows_inserted}, "
              f"updated {result.rows_updated}, unchanged {result.rows_unchanged}, "
              f"quarantined again {result.rows_quarantined} (batch {result.batch_id})")
    return 0


def _quarantine_acknowledge(args) -> int:
    with connect() as conn:
        closed = run_sql_file(conn, "cli/quarantine_acknowledge.sql", {**_quarantine_selection(args), "note": args.note})
        conn.commit()
    print(f"acknowledged {closed} entries: {args.note}" if closed else "no open quarantine entries match")
    return 0 if closed else 1


def cmd_evaluate(args) -> int:
    from pathlib import Path

    from customer_health.evaluation.pipeline import run_evaluation

    results = run_evaluation(version=args.version, horizons=args.horizon or None, backfill=not args.no_backfill,
                             report_path=Path(args.report) if args.report else None)
    for result in results:
        print(f"\n{result.horizon_days} days (run {result.run_id}): {result.verdict}")
        for d in result.diagnostics:
            print(f"  - {d.kind} ({d.scope}): {d.detail}")
        for effect in result.play_effects:
            print(f"  play {effect.play}: {effect.verdict}")
    if args.report:
        print(f"\nreport: {args.report}")
    return 0


def cmd_backtest(args) -> int:
    from pathlib import Path

    from customer_health.config.evaluation import load_evaluation
    from customer_health.config.kpis import load_kpis
    from customer_health.evaluation.backtest import backtest

    with connect() as conn:
        comparisons = backtest(
            conn, Path(args.candidate), load_evaluation(), load_kpis()[0],
            first=date.fromisoformat(args.first) if args.first else None,
            last=date.fromisoformat(args.last) if args.last else None, horizons=args.horizon or None)
    for c in comparisons:
        print(f"{c.horizon_days} days: {c.verdict}")
        print(f"    candidate alone: {c.candidate.verdict}")
    if comparisons:
        print(f"backtest took {comparisons[-1].seconds:.1f}s")
    return 0


def cmd_fit_scorecard(args) -> int:
    from pathlib import Path

    from customer_health.config.evaluation import load_evaluation
    from customer_health.config.scorecards import load_scorecards
    from customer_health.evaluation.fit import fit_scorecard, write_candidate

    live, _ = load_scorecards()
    with connect() as conn:
        fit, text = fit_scorecard(conn, load_evaluation(), horizon=args.horizon, live=live, segment=args.segment)
        conn.commit()
    print(fit.message)
    for m in fit.measures:
        print(f"  {m.kpi}: {m.direction}, weight {m.weight} (alone, as this measure: AUC {m.train_auc.fmt()})")
    if text is None:
        return 1
    print(f"written: {write_candidate(text, Path(args.out))}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m customer_health", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending warehouse migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("validate-config", help="validate include/config").set_defaults(func=cmd_validate_config)
    validate = sub.add_parser("validate-scorecards", help="validate scorecards; dry-run a candidate file")
    validate.add_argument("file", nargs="?")
    validate.add_argument("--day", help="day to compare on (default: the latest scored day, else the latest with KPIs)")
    validate.set_defaults(func=cmd_validate_scorecards)
    score = sub.add_parser("score", help="build KPIs and scores for a day outside Airflow")
    score.add_argument("--day")
    score.add_argument("--history-days", type=int, default=0)
    score.set_defaults(func=cmd_score)
    ingest = sub.add_parser("ingest", help="run one source's loads outside Airflow")
    ingest.add_argument("source")
    ingest.add_argument("streams", nargs="*")
    ingest.set_defaults(func=cmd_ingest)
    quarantine = sub.add_parser("quarantine", help="summarise quarantined rows; release or acknowledge them")
    quarantine.add_argument("--source")
    quarantine.add_argument("--stream")
    quarantine.set_defaults(func=cmd_quarantine, action=None)
    actions = quarantine.add_subparsers(dest="action")
    for name, help_text in (("release", "check the chosen rows again now and load those that pass"),
                            ("acknowledge", "close the chosen entries, saying why")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--id", type=int, action="append", help="a quarantine id (repeat for several)")
        action.add_argument("--source")
        action.add_argument("--stream")
        action.add_argument("--kind", help="a reason kind as the summary prints it")
        if name == "acknowledge":
            action.add_argument("--note", required=True, help="why nothing more is needed")
    evaluate = sub.add_parser("evaluate", help="judge the stored scores against churn (marts.evaluation_*)")
    evaluate.add_argument("--version", help="scorecard version to judge (default: the live one)")
    evaluate.add_argument("--horizon", type=int, action="append", help="days; repeat for several (default: evaluation.yml)")
    evaluate.add_argument("--report", help="write the HTML report here")
    evaluate.add_argument("--no-backfill", action="store_true", help="judge only days already scored")
    evaluate.set_defaults(func=cmd_evaluate)
    back = sub.add_parser("backtest", help="re-score history under a candidate scorecards file and compare")
    back.add_argument("candidate")
    back.add_argument("--from", dest="first", help="first reference date to include")
    back.add_argument("--to", dest="last", help="last reference date to include")
    back.add_argument("--horizon", type=int, action="append")
    back.set_defaults(func=cmd_backtest)
    fit = sub.add_parser("fit-scorecard", help="fit a candidate scorecard from this warehouse's history")
    fit.add_argument("--out", required=True, help="where to write the candidate scorecards file")
    fit.add_argument("--horizon", type=int, help="churn horizon in days (default: the first of evaluation.yml)")
    fit.add_argument("--segment", help="fit only this scorecard's accounts (a scorecard name); the others stay as live")
    fit.set_defaults(func=cmd_fit_scorecard)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ConfigError, WarehouseUnavailable, LookupError, NothingToCompare) as exc:
        print(exc, file=sys.stderr)
        return 2

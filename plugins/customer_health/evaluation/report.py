"""The evaluation as one static HTML page a CS-ops person reads: verdict first, then the evidence.

Self-contained (inline CSS, no script, nothing loaded from the network), so it
can be mailed, attached to a ticket or opened from the Airflow worker's disk.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from customer_health.evaluation.evaluate import Evaluation

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1f24;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{padding:.2rem .6rem;border-bottom:1px solid #eaeef2;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.verdict{padding:.8rem 1rem;border-left:4px solid #0969da;background:#f6f8fa}
.bar{display:inline-block;height:.7rem;background:#cf222e;vertical-align:middle}
.muted{color:#57606a;font-size:.9rem}
"""


def _n(value, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "" if value is None else f"{value:.1%}"


def _section(result: Evaluation) -> str:
    e = html.escape
    parts = [f"<h2>Churn within {result.horizon_days} days</h2>", f"<p class='verdict'>{e(result.verdict)}</p>"]
    if not result.rows:
        return "\n".join(parts)
    parts.append(f"<p class='muted'>Reference dates: {e(', '.join(map(str, result.reference_dates)))}.</p>")
    metrics = [m for m in result.metrics if m.subject_kind == "score"]
    columns = (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"), ("top_decile_lift", "top-decile lift"),
               ("red_precision", "red: churned"), ("red_recall", "churners: red"), ("churn_rate", "churn rate"))
    parts.append("<h3>The score</h3><table><tr><th>rows judged</th>"
                 + "".join(f"<th>{e(title)}<br><span class='muted'>95 % interval</span></th>" for _, title in columns)
                 + "<th>rows</th><th>churned</th><th>verdict</th></tr>")
    for scope in dict.fromkeys(m.scope for m in metrics):
        by_metric = {m.metric: m for m in metrics if m.scope == scope}
        auc = by_metric["roc_auc"]
        cells = []
        for metric, _ in columns:
            est = by_metric[metric].estimate if metric in by_metric else None
            if est is None or est.value is None:
                cells.append("<td>n/a</td>")
                continue
            ci = f"<br><span class='muted'>{_n(est.low)}-{_n(est.high)}</span>" if est.low is not None else ""
            cells.append(f"<td>{_n(est.value)}{ci}</td>")
        parts.append(f"<tr><td>{e(scope)}</td>{''.join(cells)}<td>{auc.estimate.rows}</td>"
                     f"<td>{auc.estimate.positives}</td><td>{e(auc.signal)}</td></tr>")
    parts.append("</table><p class='muted'>ROC AUC 0.5 = chance; PR AUC against the churn rate; lift 1.0 = chance; "
                 "red: churned = share of red accounts that churned; churners: red = share of churners that were red.</p>")
    for kind, title in (("band", "Churn by band"), ("decile", "Churn by score decile (1 = lowest scores, within each date)"),
                        ("quadrant", "Churn by health x maturity quadrant")):
        rows = [b for b in result.bins if b.bin_kind == kind and b.scope == "all"]
        if not rows:
            continue
        top = max((b.churn_rate or 0) for b in rows) or 1
        parts.append(f"<h3>{e(title)}</h3><table><tr><th>{kind}</th><th>rows</th><th>churned</th><th>churn rate</th>"
                     "<th>95 % interval</th><th>mean score</th><th>churned ARR</th><th></th></tr>")
        for b in sorted(rows, key=lambda b: b.position):
            width = 12 * (b.churn_rate or 0) / top
            parts.append(
                f"<tr><td>{e(b.bin)}</td><td>{b.rows_in_bin}</td><td>{b.churned_rows}</td><td>{_pct(b.churn_rate)}</td>"
                f"<td>{_pct(b.churn_rate_low)}-{_pct(b.churn_rate_high)}</td><td>{_n(b.mean_score, 1)}</td>"
                f"<td>{_n(b.churned_arr, 0)}</td><td><span class='bar' style='width:{width:.2f}rem'></span></td></tr>")
        parts.append("</table>")
    for kind, title in (("measure", "Each measure of the scorecards"), ("kpi", "Each KPI on its own (in a scorecard or not)")):
        rows = sorted((m for m in result.metrics if m.subject_kind == kind and m.metric == "roc_auc"),
                      key=lambda m: -abs((m.estimate.value or 0.5) - 0.5))
        if not rows:
            continue
        parts.append(f"<h3>{e(title)}</h3><table><tr><th>{kind}</th><th>ROC AUC (lower = riskier)</th>"
                     "<th>95 % interval</th><th>rows</th><th>churned</th><th>signal</th></tr>")
        for m in rows:
            est = m.estimate
            ci = f"{_n(est.low)}-{_n(est.high)}" if est.low is not None else "n/a"
            parts.append(f"<tr><td>{e(m.subject)}</td><td>{_n(est.value, 3)}</td><td>{ci}</td><td>{est.rows}</td>"
                         f"<td>{est.positives}</td><td>{e(m.signal)}</td></tr>")
        parts.append("</table>")
    if result.play_effects:
        parts.append(f"<h3>What each play did (treated against its held-out accounts, {result.horizon_days} days on)</h3><ul>")
        parts.extend(f"<li><b>{e(p.play)}</b>: {e(p.verdict)}</li>" for p in result.play_effects)
        parts.append("</ul>")
    if result.diagnostics:
        parts.append("<h3>What to act on</h3><ul>")
        parts.extend(f"<li><b>{e(d.kind.replace('_', ' '))}</b> ({e(d.scope)}): {e(d.detail)}</li>"
                     for d in result.diagnostics)
        parts.append("</ul>")
    return "\n".join(parts)


def render(results: list[Evaluation]) -> str:
    version = results[0].config_version if results else "?"
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(_section(r) for r in results)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Does the health score foresee churn? ({html.escape(version)})</title>
<style>{STYLE}</style></head><body>
<h1>Does the health score foresee churn?</h1>
<p class="muted">Scorecard version {html.escape(version)}, generated {generated}. At each reference date every account
that had not churned is a row, scored with the score stored for that day and labelled by churn within the horizon.
ROC AUC compares accounts only with others on the same date (0.5 = chance), so calendar drift cannot fake signal;
intervals are 95 % bootstrap intervals over accounts (churn-rate intervals are Wilson intervals over rows).
"No significant signal" means the interval includes 0.5.</p>
{body}
</body></html>
"""


def write_report(results: list[Evaluation], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
    return path

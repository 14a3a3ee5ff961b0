"""Every shipped YAML validates; a broken one is named precisely (file, key path, what is allowed)."""
from __future__ import annotations

import pytest

from customer_health.config import ConfigError
from customer_health.config.scorecards import load_scorecards
from customer_health.config.sources import load_sources
from demo.localenv import REPO_ROOT

SHIPPED = REPO_ROOT / "include" / "config" / "scorecards.yml"


def test_shipped_config_validates():
    assert load_sources()
    config, version = load_scorecards()
    assert len(version) == 12
    names = [s.name for s in config.scorecards]
    assert {"smb", "mid_market", "enterprise", "smb_onboarding", "mid_market_onboarding", "enterprise_onboarding"} <= set(names)


def test_config_version_is_the_content_hash(tmp_path):
    copy = tmp_path / "scorecards.yml"
    copy.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_scorecards(copy)[1] == load_scorecards(SHIPPED)[1]
    copy.write_text(SHIPPED.read_text(encoding="utf-8").replace("red: 40, green: 70", "red: 45, green: 70"), encoding="utf-8")
    assert load_scorecards(copy)[1] != load_scorecards(SHIPPED)[1]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("kpi: seat_utilisation, direction", "kpi: seat_utilization, direction"),
         "kpi 'seat_utilization' is not a numeric KPI; allowed: active_days_30d"),
        (("method: percentile, weight: 20", "method: percentil, weight: 20"),
         "method: Input should be 'thresholds', 'percentile' or 'boolean'"),
        (("red: 0.2, green: 0.7, weight: 30", "red: 0.7, green: 0.2, weight: 30"),
         "direction higher_is_better needs green above red (got red 0.7, green 0.2)"),
        (("bands: {red: 40, green: 70}", "bands: {red: 80, green: 70}"), "bands: Value error, red (80.0) must not be above green (70.0)"),
        (("segment: {employees: {gte: 1000}}", "segment: {employees: {gte: many}}"), "scorecards[3].segment.employees.gte"),
        (("segment: {tenure_days: {lt: 90}}", "segment: {tenure: {lt: 90}}"), "segment field 'tenure' unknown; allowed:"),
        (("  - name: smb\n", "  - name: smb\n    segment: {region: {eq: JP}}\n"),
         "the last scorecard must have no segment (the catch-all)"),
        (("usage_events: {max_age", "usage_event: {max_age"), "quality_gate: unknown stream 'usage_event'"),
        (("weight: 20}", "wieght: 20}"), "unknown key (a typo?)"),
    ],
)
def test_scorecard_errors_name_file_key_and_what_is_allowed(tmp_path, edit, expected):
    text = SHIPPED.read_text(encoding="utf-8")
    assert edit[0] in text, "the test's edit no longer matches the shipped file"
    broken = tmp_path / "scorecards.yml"
    broken.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_scorecards(broken)
    message = str(error.value)
    assert message.startswith(f"{broken}: ")
    assert expected in message, message


def test_yaml_syntax_errors_give_line_and_column(tmp_path):
    broken = tmp_path / "scorecards.yml"
    broken.write_text("bands: {red: 40\nscorecards: [", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"scorecards.yml: line \d+, column \d+: not valid YAML"):
        load_scorecards(broken)


def test_every_shipped_yaml_validates_from_the_cli(capsys):
    from customer_health.cli import main

    assert main(["validate-config"]) == 0
    out = capsys.readouterr().out
    for name in ("sources.yml", "scorecards.yml", "kpis.yml", "cmi.yml", "playbooks.yml"):
        assert f"{name}:" in out and "OK" in out


def test_shipped_playbooks_cover_the_matrix_and_the_triggers():
    from customer_health.config.playbooks import load_playbooks

    plays, _ = load_playbooks()
    quadrants = {q for p in plays.plays if p.when.quadrant for q in p.when.quadrant}
    assert {"star", "cash_cow", "worth_keeping", "tough"} <= quadrants
    assert any(p.when.cmi for p in plays.plays)
    kinds = {k for p in plays.plays for k, v in p.when.model_dump(exclude_none=True).items() if k not in ("quadrant", "cmi")}
    assert {"score_drop", "band_changed_to", "kpi", "renewal_within_days", "nps_detractor"} <= kinds


def test_a_play_segment_is_checked_like_a_scorecard_segment(tmp_path):
    from customer_health.config.playbooks import load_playbooks, playbooks_path

    text = playbooks_path().read_text(encoding="utf-8")
    edit = "segment: {tenure_days: {gte: 30}}"
    assert edit in text
    broken = tmp_path / "playbooks.yml"
    broken.write_text(text.replace(edit, "segment: {region: {gte: 30}}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="segment.region.gte: region is text; use eq, ne, in or not_in"):
        load_playbooks(broken)


SOURCES = REPO_ROOT / "include" / "config" / "sources.yml"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # hour 25: croniter (the parser Airflow's cron timetables use) refuses it, so the DAG never parses wrong
        (('schedule: "0 2 * * *"', 'schedule: "0 25 * * *"'),
         "sources.crm.schedule: Value error, '0 25 * * *' is not a valid cron expression"),
        (('schedule: "0 2 * * *"', 'schedule: "daily"'), "allowed: five fields 'minute(0-59) hour(0-23)"),
        # a typo in a canonical column of the CRM mapping: named with the column it meant and the columns allowed
        (("          name: name\n", "          nmae: name\n"),
         "sources.crm.streams.crm_accounts.properties.nmae: 'nmae' is not a column of crm_accounts "
         "(did you mean 'name'?); allowed: account_id, name,"),
        (("          name: name\n", "          nmae: name\n"),
         "sources.crm.streams.crm_accounts.properties: lacks column(s) name of crm_accounts"),
        (("      folder: .demo/survey_csv\n", "      folder: .demo/survey_csv\n      encoding: utf-9\n"),
         "sources.support_csat.options.encoding: Value error, unknown encoding 'utf-9'; allowed: a Python codec name"),
        (("      folder: .demo/survey_csv\n", "      folder: .demo/survey_csv\n      encoding: base64\n"),
         "'base64' is not a text encoding"),
        (("      folder: .demo/survey_csv\n", "      folder: .demo/survey_csv\n      delimiter: ';;'\n"),
         "sources.support_csat.options.delimiter: Value error, the delimiter must be one character"),
    ],
)
def test_source_errors_name_file_key_and_what_is_allowed(tmp_path, edit, expected):
    text = SOURCES.read_text(encoding="utf-8")
    assert edit[0] in text, "the test's edit no longer matches the shipped file"
    broken = tmp_path / "sources.yml"
    broken.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_sources(broken)
    assert str(error.value).startswith(f"{broken}: ")
    assert expected in str(error.value), str(error.value)


def test_presets_and_no_schedule_are_accepted(tmp_path):
    text = SOURCES.read_text(encoding="utf-8")
    for schedule in ('"@daily"', '"@quarterly"', "null", '"*/15 6-18 * * 1-5"'):
        path = tmp_path / "sources.yml"
        path.write_text(text.replace('schedule: "0 2 * * *"', f"schedule: {schedule}", 1), encoding="utf-8")
        assert load_sources(path)["crm"].entry.schedule == (None if schedule == "null" else schedule.strip('"'))


@pytest.mark.parametrize("name", ["sources.yml", "scorecards.yml", "kpis.yml", "cmi.yml", "playbooks.yml"])
def test_a_key_given_twice_fails_naming_file_key_and_lines(tmp_path, name):
    """Every config file goes through config/loader.py: a duplicated key is refused, not last-one-wins."""
    from customer_health.config.cmi import load_cmi
    from customer_health.config.kpis import load_kpis
    from customer_health.config.playbooks import load_playbooks

    shipped = REPO_ROOT / "include" / "config"
    lines = (shipped / name).read_text(encoding="utf-8").splitlines(keepends=True)
    # the first top-level key again, at the end: the classic pasted block
    first = next(i for i, line in enumerate(lines) if line[:1].isalpha())
    end = next((i for i in range(first + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
    key = lines[first].split(":")[0]
    broken = tmp_path / name
    broken.write_text("".join(lines) + "\n" + "".join(lines[first:end]), encoding="utf-8")
    loaders = {"sources.yml": load_sources, "scorecards.yml": load_scorecards, "kpis.yml": load_kpis,
               "cmi.yml": load_cmi, "playbooks.yml": load_playbooks}
    with pytest.raises(ConfigError) as error:
        loaders[name](broken)
    assert f"{broken}: {key}: key given twice (lines {first + 1} and {len(lines) + 2})" in str(error.value)


def test_a_nested_duplicate_names_its_key_path(tmp_path):
    text = SOURCES.read_text(encoding="utf-8")
    edit = "          industry: industry\n"
    broken = tmp_path / "sources.yml"
    broken.write_text(text.replace(edit, edit + "          industry: sector\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.crm\.streams\.crm_accounts\.properties\.industry: key given twice"):
        load_sources(broken)


def test_validate_config_fails_naming_file_and_key(tmp_path, monkeypatch, capsys):
    """`python -m customer_health validate-config` on a scratch include/: exit 2 and the problem, no traceback."""
    import shutil

    from customer_health.cli import main

    include = tmp_path / "include"
    shutil.copytree(REPO_ROOT / "include" / "config", include / "config")
    (include / "sql").symlink_to(REPO_ROOT / "include" / "sql")
    sources = include / "config" / "sources.yml"
    sources.write_text(SOURCES.read_text(encoding="utf-8").replace('schedule: "0 2 * * *"', 'schedule: "0 25 * * *"'),
                       encoding="utf-8")
    monkeypatch.setenv("CUSTOMER_HEALTH_INCLUDE", str(include))
    assert main(["validate-config"]) == 2
    err = capsys.readouterr().err
    assert f"{sources}: sources.crm.schedule: Value error, '0 25 * * *' is not a valid cron expression" in err

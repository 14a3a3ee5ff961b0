"""The product's imports point down its layers, as .importlinter states (README, "Layers").

import-linter checks the real package against the contracts; then a copy of
the package with one wrong import added shows that each contract breaks on
the kind of import it is there to refuse.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / ".importlinter"
PACKAGE = ROOT / "plugins" / "customer_health"


def lint_imports(plugins_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    """lint-imports over the customer_health package found in ``plugins_dir`` (demo/, bench/, tests/ from the repo)."""
    # A wide console keeps each contract's name and its verdict on one line.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(plugins_dir), str(ROOT))), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo", str(CONTRACTS)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' summary."""
    return dict(re.findall(r"^(\S.*?) (KEPT|BROKEN)\b", output, flags=re.MULTILINE))


def contract_names() -> list[str]:
    return re.findall(r"^name = (.+)$", CONTRACTS.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_imports_point_down():
    result = lint_imports(ROOT / "plugins", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verdicts(result.stdout) == dict.fromkeys(contract_names(), "KEPT")


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("warehouse/db.py", "customer_health.sources.base", "Layers point down"),
        ("config/loader.py", "customer_health.scoring.engine", "Layers point down"),
        ("scoring/engine.py", "customer_health.playbooks.engine", "Layers point down"),
        ("config/sources.py", "customer_health.sources.ingest", "Orchestration"),
        ("scoring/pipeline.py", "customer_health.cli", "Entry points on top"),
        ("contracts/streams.py", "customer_health.paths", "contracts/ is pure data"),
        ("contracts/streams.py", "psycopg", "contracts/ is pure data"),
        ("kpis.py", "demo.world", "The product never imports"),
        ("warehouse/db.py", "psycopg2", "One Postgres driver"),
    ],
)
def test_a_wrong_import_breaks_its_contract(tmp_path, module, wrong_import, contract):
    copy = tmp_path / "customer_health"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\nimport {wrong_import}  # noqa\n", encoding="utf-8")
    result = lint_imports(tmp_path, cwd=tmp_path)
    assert result.returncode != 0, f"importing {wrong_import} from {module} broke no contract:\n{result.stdout}"
    broken = [name for name, verdict in verdicts(result.stdout).items() if verdict == "BROKEN"]
    assert any(name.startswith(contract) for name in broken), f"expected {contract!r} broken, got {broken}:\n{result.stdout}"

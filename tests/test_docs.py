"""The generated parts of docs/ are what docs/generate.py writes from the definitions today."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generate():
    spec = importlib.util.spec_from_file_location("docs_generate", REPO_ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_contracts_stream_table_is_generated_from_the_stream_definitions(generate):
    text = generate.DATA_CONTRACTS.read_text(encoding="utf-8")
    assert generate.render(text) == text, "docs/data-contracts.md is stale: run `make docs`"


def test_every_stream_and_column_is_in_the_table(generate):
    from customer_health.contracts.streams import STREAMS

    table = generate.streams_table()
    for stream in STREAMS.values():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{stream.name}` |"))
        for column in stream.schema:
            assert f"{column.name} {column.type}" in row


def test_a_file_without_markers_is_an_error(generate):
    with pytest.raises(ValueError, match="lacks the markers"):
        generate.render("# Data contracts\n")

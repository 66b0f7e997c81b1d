"""YAML scenario tests: a filing and a legal date → the amounts the law gives (arithmetic in the
YAML comments). Every `expect` key is a quote field compared exactly; `flags` must all be present,
`no_flags` all absent."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearway.domain.filing import from_builtins
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document

HERE = Path(__file__).parent / "scenarios"


def _cases() -> list[Any]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return out


def _filing(spec: dict[str, Any]) -> dict[str, Any]:
    data = {"filer_reference": "scenario", "transport_document": "LX123456785CN", **spec}
    data["items"] = [{"description": "goods", **i} for i in spec.get("items", [{}])]
    return data


@pytest.mark.parametrize("case", _cases())
def test_scenario(case: dict[str, Any], assessor: PackAssessor) -> None:
    doc = from_builtins(_filing(case["filing"]))
    when = case["date"] if isinstance(case["date"], date) else date.fromisoformat(case["date"])
    quote = quote_document(doc, when, assessor)
    expect = dict(case["expect"])
    flags = expect.pop("flags", [])
    no_flags = expect.pop("no_flags", [])
    got = {k: quote[k] for k in expect}
    assert got == expect, quote["trace"]
    assert set(flags) <= set(quote["flags"]), quote["flags"]  # type: ignore[arg-type]
    assert not set(no_flags) & set(quote["flags"]), quote["flags"]  # type: ignore[arg-type]


def test_there_is_a_scenario_file_per_pack(assessor: PackAssessor) -> None:
    files = {p.stem for p in HERE.glob("*.yaml")}
    assert {p.lower() for p in assessor.packs} <= files

"""Pack overlays: alternative legislation for studies (de minimis what-if), never for clearance.

An overlay names, per pack code, parameters in exactly the shape of `pack.yaml`'s `parameters:`
section. Each named parameter's timeline is replaced by the overlay's periods; a `by_country`
overlay replaces the listed countries only and leaves the others as shipped. Overlays are
validated by the same rules as packs, so a typo fails with the overlay file and line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from clearway.revenue.assessor import PackAssessor
from clearway.revenue.packs import (
    SCHEMA,
    Pack,
    PackError,
    Timeline,
    _line,
    _load_by_country,
    _mapping,
    _periods,
)


def overlay_packs(base: dict[str, Pack], node: yaml.Node, file: Path) -> dict[str, Pack]:
    """Copies of `base` with the overlay `node` ({pack code: {parameter: periods}}) applied."""
    packs = dict(base)
    for code, params in _mapping(node, file, "an overlay").items():
        pack = base.get(code)
        if pack is None:
            raise PackError(file, _line(params), f"unknown pack {code!r}; packs: {sorted(base)}")
        packs[code] = _overlay_one(pack, params, file)
    return packs


def _overlay_one(pack: Pack, node: yaml.Node, file: Path) -> Pack:
    out = dataclasses.replace(
        pack,
        common=dict(pack.common),
        by_country={k: dict(v) for k, v in pack.by_country.items()},
    )
    _mapping(node, file, f"{pack.code} parameters")
    assert isinstance(node, yaml.MappingNode)
    for key, value in node.value:
        name = str(key.value)
        if name not in SCHEMA:
            raise PackError(file, _line(key), f"unknown parameter {name!r}")
        if isinstance(value, yaml.MappingNode):
            per = _mapping(value, file, name)
            if set(per) != {"by_country"}:
                raise PackError(file, _line(value), f"{name}: expected periods or by_country")
            scratch = dataclasses.replace(pack, common={}, by_country={})
            _load_by_country(scratch, name, per["by_country"], file, pack.folder)
            merged = dict(out.by_country.get(name, {}))
            if name not in out.by_country and name in out.common:
                # a common timeline becomes per-country: unlisted countries keep it
                merged = {c: out.common[name] for c in pack.countries}
                del out.common[name]
            merged.update(scratch.by_country[name])
            out.by_country[name] = merged
            continue
        timeline = Timeline(name)
        for period in _periods(name, value, file, pack.folder):
            timeline.add(period)
        out.by_country.pop(name, None)
        out.common[name] = timeline
    return out


def assessor_for(base: PackAssessor, packs: dict[str, Pack]) -> PackAssessor:
    """An assessor over `packs` that shares the base assessor's FX table, tariffs and hooks."""
    return PackAssessor(
        packs, base.fx, base.tariffs, base.hooks.registration_status, base.hooks.annual_usage
    )

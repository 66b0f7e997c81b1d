"""Charts of the statistics as SVG and PNG files (matplotlib, Agg backend: no display needed).

Amounts are plotted from Decimal; the conversion to float happens here, for drawing only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # the backend is chosen before pyplot loads
from matplotlib.figure import Figure

FORMATS: Final = ("svg", "png")
Words = Callable[[str], str]  # the chart's words in the report's language (English: as is)
COLOURS: Final = ("#1f5f8b", "#e08a1e", "#4c9a52", "#b8423a", "#7d5ba6", "#8c8c8c")
_META: Final = {"svg": {"Date": None}, "png": {}}


def save(fig: Figure, folder: Path, name: str, formats: Sequence[str] = FORMATS) -> Path:
    """Write `name.svg` (and `name.png`); returns the first file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        fig.savefig(path, format=fmt, bbox_inches="tight", dpi=110, metadata=_META.get(fmt, {}))
        paths.append(path)
    plt.close(fig)
    return paths[0]


def _f(v: Decimal | float | int | None) -> float:
    return 0.0 if v is None else float(v)


def bars(
    rows: Sequence[dict[str, Any]],
    series: Sequence[str],
    title: str,
    unit: str,
    limit: int = 15,
    t: Words = str,
) -> Figure:
    """Horizontal stacked bars, one per row's `key` (the first `limit` rows)."""
    rows = list(rows)[:limit]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 3) + 1.2))
    keys = [str(r["key"]) for r in rows][::-1]
    left = [0.0] * len(rows)
    for n, name in enumerate(series):
        values = [_f(r[name]) for r in rows][::-1]
        ax.barh(keys, values, left=left, color=COLOURS[n % len(COLOURS)], label=t(name))
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_title(title)
    ax.set_xlabel(unit)
    if len(series) > 1:
        ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def durations(rows: Sequence[dict[str, Any]], interval: str, title: str, t: Words = str) -> Figure:
    """Median and 90th percentile of one interval per group, in hours."""
    rows = [r for r in rows if r["interval"] == interval]
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(rows), 3) + 1.2))
    keys = [str(r["key"]) for r in rows][::-1]
    p50 = [r["p50"] / 3600 for r in rows][::-1]
    p90 = [r["p90"] / 3600 for r in rows][::-1]
    ax.barh(keys, p90, color=COLOURS[1], label=t("90th percentile"))
    ax.barh(keys, p50, color=COLOURS[0], label=t("median"))
    ax.set_title(title)
    ax.set_xlabel(t("hours"))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def hit_rates(
    rows: Sequence[dict[str, Any]], title: str, limit: int = 20, t: Words = str
) -> Figure:
    """Hit rate per selection group with its 95 % Wilson interval; the baseline as a line."""
    rows = list(rows)[:limit]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 3) + 1.2))
    labels = [
        f"{t(r['group'])}: {r['key'] if r['group'] == 'rule' else t(str(r['key']))}" for r in rows
    ][::-1]
    rates = [r["hit_rate"] for r in rows][::-1]
    # clamp: at a rate of 0 or 1 float rounding can put the Wilson bound a hair inside it
    low = [max(0.0, r["hit_rate"] - r["ci_low"]) for r in rows][::-1]
    high = [max(0.0, r["ci_high"] - r["hit_rate"]) for r in rows][::-1]
    ax.errorbar(rates, labels, xerr=[low, high], fmt="o", color=COLOURS[0], capsize=3)
    base = next((r for r in rows if r["group"] == "baseline"), None)
    if base is not None:
        ax.axvline(base["hit_rate"], color=COLOURS[3], linestyle="--", label=t("random baseline"))
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.set_xlabel(t("share of inspections that found something"))
    ax.grid(axis="x", alpha=0.3)
    return fig


def scenario(
    name: str,
    result: dict[str, Any],
    baseline: dict[str, Any],
    workload: Sequence[str],
    t: Words = str,
) -> Figure:
    """One what-if scenario against the baseline: revenue per currency and workload."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    currencies = sorted(set(result["revenue"]) | set(baseline["revenue"]))
    x = range(len(currencies))
    width = 0.4
    for n, (label, data) in enumerate(((t("baseline"), baseline), (name, result))):
        values = [_f(data["revenue"].get(c, {}).get("total")) for c in currencies]
        left.bar([i + (n - 0.5) * width for i in x], values, width, label=label, color=COLOURS[n])
    left.set_xticks(list(x), currencies)
    left.set_title(t("revenue per currency"))
    left.legend(fontsize=8)
    y = range(len(workload))
    for n, (label, data) in enumerate(((t("baseline"), baseline), (name, result))):
        values = [data["workload"][w] for w in workload]
        right.barh([i + (n - 0.5) * width for i in y], values, width, label=label, color=COLOURS[n])
    right.set_yticks(list(y), [t(w.replace("_", " ")) for w in workload])
    right.set_title(t("workload (count)"))
    fig.suptitle(t("what-if: %(name)s") % {"name": name})
    fig.tight_layout()
    return fig

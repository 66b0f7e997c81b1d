"""The scale path: the same statistics on a Dask cluster over the same Parquet files.

Each Parquet file is one partition. Amounts travel as exact integers (ten-thousandths, the
snapshot's decimal scale) and come back as Decimal, so sums equal DuckDB's to the last digit.
Percentiles are exact (linear interpolation, as DuckDB's `quantile_cont`), computed per group.
Workers must import `clearway` and read the snapshot's paths (a shared folder, or one machine).
The rows returned have the shapes of `measures` and `timerelease`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

import dask
import dask.dataframe
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from distributed import Client

from clearway.statistics import schema as s
from clearway.statistics.measures import (
    CONSIGNMENT_DIMENSIONS,
    ITEM_DIMENSIONS,
    NONE_KEY,
    REVENUE_KEYS,
    UnknownDimension,
    normalise_breakdown,
    normalise_revenue,
    sort_breakdown,
    sort_hits,
    sort_revenue,
    value_band_edges,
    value_band_labels,
)
from clearway.statistics.snapshot import Period, Snapshot
from clearway.statistics.timerelease import (
    GROUPS,
    INTERVALS,
    PERCENTILES,
    UnknownGroup,
    finish_share,
    sort_durations,
    sort_shares,
)

# Dask's dataframe API is only partly typed; its frames are handled as Any here.
dd: Any = dask.dataframe
_SCALE: Final = 10**s.MONEY_SCALE
_MILESTONES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "filed": (("file",), "min"),
    "decided": (("decide",), "max"),
    "arrived": (("arrive",), "min"),
    "held": (("hold", "request_documents"), "min"),
    "inspected": (("inspect",), "min"),
    "released": (("release",), "max"),
}
_NULLABLE: Final = {
    pa.int8(): pd.Int8Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def load_partition(path: str, columns: list[str]) -> pd.DataFrame:
    """One Parquet file as pandas; decimals become exact Int64 ten-thousandths."""
    table = pq.read_table(path, columns=columns)
    return _to_pandas(table)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    arrays = []
    for col in table.columns:
        if pa.types.is_decimal(col.type):
            scaled = pc.multiply(col, pa.scalar(Decimal(_SCALE), pa.decimal128(6, 0)))
            col = scaled.cast(pa.int64())
        arrays.append(col)
    return pa.table(arrays, names=table.column_names).to_pandas(types_mapper=_NULLABLE.get)


def _amount(v: Any) -> Decimal:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return Decimal(0)
    return Decimal(int(v)).scaleb(-s.MONEY_SCALE)


class DaskStatistics:
    """`measures` and `timerelease` over a snapshot, computed by a Dask cluster."""

    def __init__(self, root: Path, client: Client, period: Period | None = None) -> None:
        self.client: Any = client
        # The snapshot gives the period's files and the manifest; DuckDB does no work here.
        self.snap = Snapshot(root, period)
        self._milestone_frames: dict[bool, Any] = {}

    def close(self) -> None:
        self.snap.close()

    def frame(self, table: str, columns: list[str]) -> Any:
        files = [str(f) for f in self.snap.files(table)]
        schema = s.TABLES[table]
        meta = _to_pandas(
            pa.Table.from_pylist([], schema=pa.schema([schema.field(c) for c in columns]))
        )
        if not files:
            return dd.from_pandas(meta, npartitions=1)
        return dd.from_map(
            load_partition, files, columns=columns, meta=meta, enforce_metadata=False
        )

    def _compute(self, obj: Any) -> Any:
        return self.client.gather(self.client.compute(obj))

    # ------------------------------------------------------------ e-commerce statistics
    def breakdown(self, dimension: str) -> list[dict[str, Any]]:
        with _objects():
            return self._breakdown(dimension)

    def _breakdown(self, dimension: str) -> list[dict[str, Any]]:
        if dimension in CONSIGNMENT_DIMENSIONS:
            table, cols = "consignments", ["consignment_id", "item_count"]
        elif dimension in ITEM_DIMENSIONS:
            table, cols = "items", ["consignment_id"]
        else:
            raise UnknownDimension(f"unknown dimension {dimension!r}")
        money = ["reporting_value", "reporting_duty", "reporting_tax", "reporting_fees"]
        if table == "consignments":
            money.append("reporting_total")
        source = "reporting_value" if dimension == "value_band" else dimension
        df = self.frame(table, sorted({*cols, *money, source}))
        if dimension == "value_band":
            edges = [int(e * _SCALE) for e in value_band_edges(self.snap.reporting_currency)]
            labels = value_band_labels(self.snap.reporting_currency)
            df = df.assign(
                key=df["reporting_value"].map_partitions(
                    _bands, edges, labels, meta=("key", "object")
                )
            )
        else:
            df = df.assign(key=df[dimension].map_partitions(_keys, meta=("key", "object")))
        if table == "consignments":
            agg = df.groupby("key").agg(
                parcels=("consignment_id", "count"),
                items=("item_count", "sum"),
                value=("reporting_value", "sum"),
                duty=("reporting_duty", "sum"),
                tax=("reporting_tax", "sum"),
                fees=("reporting_fees", "sum"),
                revenue=("reporting_total", "sum"),
                split_out=1,
            )
        else:
            # The export writes a consignment's items in the part file of the consignment, so
            # distinct consignments per key are counted within each file and summed.
            df = df.assign(first=df.map_partitions(_first_per_consignment, meta=("first", "i8")))
            agg = df.groupby("key").agg(
                parcels=("first", "sum"),
                items=("consignment_id", "count"),
                value=("reporting_value", "sum"),
                duty=("reporting_duty", "sum"),
                tax=("reporting_tax", "sum"),
                fees=("reporting_fees", "sum"),
                split_out=1,
            )
        result = self._compute(agg)
        rows = []
        for key, r in result.iterrows():
            row = {k: _amount(r[k]) for k in ("value", "duty", "tax", "fees")}
            row["revenue"] = (
                _amount(r["revenue"]) if "revenue" in r else row["duty"] + row["tax"] + row["fees"]
            )
            rows.append(
                normalise_breakdown(
                    {"key": key, "parcels": r["parcels"], "items": r["items"], **row}
                )
            )
        return sort_breakdown(rows)

    def revenue(self) -> list[dict[str, Any]]:
        with _objects():
            return self._revenue()

    def _revenue(self) -> list[dict[str, Any]]:
        money = [
            "duty",
            "vat",
            "consumption_tax",
            "excise",
            "fees",
            "assessed_total",
            "due_at_border",
        ]
        df = self.frame("consignments", ["assessed_currency", "collection_model", *money])
        df = df[df["assessed_currency"].notnull()]
        df = df.assign(
            collection_model=df["collection_model"].map_partitions(_keys, meta=("c", "object")),
            owing=(df["assessed_total"] > 0).astype("int64"),
            n=1,
        )
        agg = df.groupby(["assessed_currency", "collection_model"]).agg(
            {"n": "sum", "owing": "sum", **dict.fromkeys(money, "sum")}, split_out=1
        )
        result = self._compute(agg)
        rows = []
        for (currency, model), r in result.iterrows():
            row: dict[str, Any] = {
                "currency": currency,
                "collection_model": model,
                "parcels": int(r["n"]),
                "parcels_owing": int(r["owing"]),
            }
            for k in REVENUE_KEYS:
                row[k] = _amount(r["assessed_total" if k == "total" else k])
            rows.append(normalise_revenue(row))
        return sort_revenue(rows)

    def hit_rate_counts(self) -> list[dict[str, Any]]:
        with _objects():
            return self._hit_rate_counts()

    def _hit_rate_counts(self) -> list[dict[str, Any]]:
        df = self.frame(
            "consignments", ["inspected", "found", "random_sample", "lane", "rule_codes", "score"]
        )
        insp = df[df["inspected"].fillna(False)]
        found = insp["found"].fillna(False).astype("int64")
        insp = insp.assign(f=found, n=1)
        rows: list[dict[str, Any]] = []
        base = insp[insp["random_sample"].fillna(False)][["n", "f"]].sum()
        lanes = (
            insp[~insp["random_sample"].fillna(False) & insp["lane"].notnull()]
            .groupby("lane")[["n", "f"]]
            .sum()
        )
        rules = insp[["rule_codes", "n", "f"]].explode("rule_codes")
        rules = rules[rules["rule_codes"].notnull()].groupby("rule_codes")[["n", "f"]].sum()
        scored = insp[insp["score"].notnull()]
        scored = scored.assign(
            band=scored["score"].map_partitions(_score_bands, meta=("band", "object"))
        )
        scores = scored.groupby("band")[["n", "f"]].sum()
        b, lanes_df, rules_df, scores_df = self._compute([base, lanes, rules, scores])
        if int(b["n"]):
            rows.append(
                {
                    "group": "baseline",
                    "key": "random sample",
                    "inspected": int(b["n"]),
                    "found": int(b["f"]),
                }
            )
        for group, frame in (("lane", lanes_df), ("rule", rules_df), ("score", scores_df)):
            for key, r in frame.iterrows():
                if int(r["n"]):
                    rows.append(
                        {
                            "group": group,
                            "key": str(key),
                            "inspected": int(r["n"]),
                            "found": int(r["f"]),
                        }
                    )
        return sort_hits(rows)

    # ------------------------------------------------------------ time release
    def _per_consignment(self, with_authority: bool) -> Any:
        """Milestones per consignment with its lane, mode and office (and, for the agency
        grouping, one row per authority that held it). A day partition holds whole consignments
        with all their events, so each day is computed on one worker without a shuffle; the
        result is kept in the cluster's memory for every grouping."""
        frame = self._milestone_frames.get(with_authority)
        if frame is None:
            days = [
                DayFiles(
                    tuple(str(f) for f in self.snap.day_files("events", d)),
                    tuple(str(f) for f in self.snap.day_files("consignments", d)),
                    tuple(str(f) for f in self.snap.day_files("holds", d)),
                    with_authority,
                )
                for d in self.snap.days("consignments")
            ]
            meta = day_milestones(DayFiles((), (), (), with_authority))
            if not days:
                frame = dd.from_pandas(meta, npartitions=1)
            else:
                frame = dd.from_map(day_milestones, days, meta=meta, enforce_metadata=False)
            frame = self._milestone_frames[with_authority] = self.client.persist(frame)
        return frame

    def _milestones(self, by: str) -> Any:
        m = self._per_consignment(by == "agency")
        if by == "agency":
            source = m["authority"]
        elif by == "office":
            source = m["arrival_office"].fillna(m["office"])
        else:
            source = m[by]
        return m.assign(key=source.map_partitions(_keys, meta=("key", "object")))

    def time_release(self, by: str) -> list[dict[str, Any]]:
        if by not in GROUPS:
            raise UnknownGroup(f"unknown group {by!r}")
        with _objects():
            return self._time_release(self._milestones(by))

    def _time_release(self, m: Any) -> list[dict[str, Any]]:
        parts = []
        for name, (a, b) in INTERVALS.items():
            ok = m[m[a].notnull() & m[b].notnull()]
            seconds = (ok[b] - ok[a]).dt.total_seconds()
            parts.append(ok[["key"]].assign(interval=name, seconds=seconds))
        d = dd.concat(parts)
        # every duration of a group is needed for exact percentiles: gather them per group by
        # a tree reduction (no shuffle), summarise on the worker holding the group
        summaries = dd.Aggregation(
            name="durations",
            chunk=lambda g: g.apply(list),
            agg=lambda g: g.apply(lambda lists: [x for part in lists for x in part]),
            finalize=lambda s: s.map(_summary),
        )
        result = self._compute(d.groupby(["key", "interval"])["seconds"].agg(summaries))
        names = ["n", "mean", *(f"p{int(p * 100)}" for p in PERCENTILES), "max"]
        rows = []
        for (key, interval), summary in result.items():
            rows.append(
                {"key": key, "interval": interval, **dict(zip(names, summary, strict=True))}
            )
        return sort_durations(rows)

    def shares(self, by: str) -> list[dict[str, Any]]:
        if by not in GROUPS:
            raise UnknownGroup(f"unknown group {by!r}")
        with _objects():
            return self._shares(self._milestones(by))

    def _shares(self, m: Any) -> list[dict[str, Any]]:
        flags = m[["key"]].assign(
            parcels=1,
            arrived=m["arrived"].notnull().astype("int64"),
            released=m["released"].notnull().astype("int64"),
            decided_before_arrival=(m["decided"] < m["arrived"]).fillna(False).astype("int64"),
            released_at_arrival=(m["released"] <= m["arrived"]).fillna(False).astype("int64"),
        )
        result = self._compute(flags.groupby("key").sum())
        rows = [finish_share({"key": key, **r.to_dict()}) for key, r in result.iterrows()]
        return sort_shares(rows)


def _objects() -> Any:
    """Dask's string conversion off: rule-code lists stay lists (the loader's pandas types are
    kept as they are, so DuckDB and Dask agree on every key)."""
    return dask.config.set({"dataframe.convert-string": False})


def _first_per_consignment(items: pd.DataFrame) -> pd.Series:
    """1 on the first row of each (key, consignment) in a partition, else 0."""
    return (~items.duplicated(["key", "consignment_id"])).astype("int64")


def _keys(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna(NONE_KEY).astype(object)


def _bands(series: pd.Series, edges: list[int], labels: list[str]) -> pd.Series:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    # exact: compare as Python ints where present (Int64 → object ints)
    out = []
    for v, raw in zip(values, series.tolist(), strict=True):
        if raw is pd.NA or raw is None or (isinstance(raw, float) and math.isnan(v)):
            out.append(labels[-1])
        else:
            out.append(labels[int(np.searchsorted(edges, int(raw), side="left"))])
    return pd.Series(out, index=series.index, dtype=object)


def _score_bands(series: pd.Series) -> pd.Series:
    def band(score: float) -> str:
        low = math.floor(score * 10) / 10
        return f"{low:.1f}–{low + 0.1:.1f}"

    return series.map(band).astype(object)


class DayFiles(NamedTuple):
    events: tuple[str, ...]
    consignments: tuple[str, ...]
    holds: tuple[str, ...]
    with_authority: bool


def _read(files: tuple[str, ...], target: pa.Schema, columns: list[str]) -> pd.DataFrame:
    sub = pa.schema([target.field(c) for c in columns])
    tables = [pq.read_table(f, columns=columns) for f in files] or [sub.empty_table()]
    return _to_pandas(pa.concat_tables(tables))


def day_milestones(day: DayFiles) -> pd.DataFrame:
    """The milestones of one legal date's consignments, from that day's files only."""
    ev = _read(day.events, s.EVENTS, ["consignment_id", "kind", "at", "office"])
    marks = _mark_milestones(ev)
    agg: dict[str, str] = {m: how for m, (_, how) in _MILESTONES.items()}
    agg["arrival_office"] = "first"  # one arrival per consignment (lifecycle)
    per = marks.groupby("consignment_id").agg(agg).reset_index()
    cons = _read(day.consignments, s.CONSIGNMENTS, ["consignment_id", "lane", "mode", "office"])
    out = per.merge(cons, on="consignment_id", how="inner")
    if day.with_authority:
        holds = _read(day.holds, s.HOLDS, ["consignment_id", "authority"]).drop_duplicates()
        out = out.merge(holds, on="consignment_id", how="inner")
    return out


def _mark_milestones(ev: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"consignment_id": ev["consignment_id"]})
    for name, (kinds, _) in _MILESTONES.items():
        out[name] = ev["at"].where(ev["kind"].isin(kinds))
    out["arrival_office"] = ev["office"].where(ev["kind"] == "arrive")
    return out


def _summary(seconds: list[float]) -> tuple[Any, ...]:
    """(n, mean, percentiles…, max) of one group's durations."""
    values = np.asarray(seconds, dtype="float64")
    quantiles = [float(q) for q in np.quantile(values, PERCENTILES)]
    return (len(values), float(values.mean()), *quantiles, float(values.max()))

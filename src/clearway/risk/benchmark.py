"""Reader for the Customs Import Declaration Datasets layout (Korea Customs Service, synthetic).

One row per declared item; `Fraud` is the label. Columns are mapped to the canonical risk frame
(see `clearway.risk.features.FRAME_COLUMNS`) so the product's feature code runs on it unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from clearway.risk.features import FRAME_COLUMNS

COLUMN_MAP: dict[str, str] = {
    "Declaration ID": "row_id",
    "Date": "date",
    "Office ID": "office",
    "Process Type": "process_type",
    "Import Type": "import_type",
    "Import Use": "import_use",
    "Payment Type": "payment_type",
    "Mode of Transport": "mode",
    "Declarant ID": "declarant",
    "Importer ID": "importer",
    "Seller ID": "seller",
    "Courier ID": "carrier",
    "HS6 Code": "hs6",
    "HS10 Code": "hs6",  # the 2022 release: cut to the subheading
    "Country of Departure": "dispatch",
    "Country of Origin": "origin",
    "Tax Rate": "duty_rate",
    "Tax Type": "tax_type",
    "Country of Origin Indicator": "origin_indicator",
    "Net Mass": "mass",
    "Item Price": "value",
}


def read_declarations(path: Path) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    """Risk frame and `Fraud` labels from one CSV of the dataset."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"Fraud", "Declaration ID", "Item Price"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: not the declarations layout, missing {sorted(missing)}")
    frame = raw.rename(columns={k: v for k, v in COLUMN_MAP.items() if k in raw.columns})
    frame["hs6"] = frame["hs6"].str[:6]
    for c in FRAME_COLUMNS:
        if c not in frame:
            frame[c] = ""
    labels = raw["Fraud"].astype(np.int64).to_numpy()
    return frame[list(FRAME_COLUMNS)].astype(object), labels

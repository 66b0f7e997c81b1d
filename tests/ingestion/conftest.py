from __future__ import annotations

from pathlib import Path

import pytest

# ../shared sits beside the project root (as in CI's clone); /work/shared on a workstation
FORMATS = Path(__file__).resolve().parents[3] / "shared/data/formats"
if not FORMATS.exists():
    FORMATS = Path("/work/shared/data/formats")
H7_SAMPLES = FORMATS / "eu_dms_dk" / "samples"
CEB_SAMPLES = FORMATS / "cn_ceb" / "samples_import"

PLACEHOLDERS = {
    "{{LRN}}": "CW-LRN-0001",
    "{{MRN}}": "25DK000000000001A1",
    "{{CVR}}": "12345678",
    "{{DeclarantEORI}}": "DK12345678",
    "{{ImporterEORI}}": "DK87654321",
}


def filled(path: Path) -> bytes:
    """A DMS test case with its {{…}} placeholders filled in."""
    text = path.read_text(encoding="utf-8")
    for key, value in PLACEHOLDERS.items():
        text = text.replace(key, value)
    assert "{{" not in text, f"unfilled placeholder in {path.name}"
    return text.encode("utf-8")


@pytest.fixture(scope="session")
def samples_present() -> None:
    assert H7_SAMPLES.is_dir() and CEB_SAMPLES.is_dir(), "shared format samples are missing"

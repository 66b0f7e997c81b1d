"""The analyst statistics dashboard reads the Parquet snapshot, and the report is served."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.statistics.report import write_report
from clearway.storage.export import export
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import arrive, file_parcel, login


def test_analyst_sees_snapshot_figures_and_the_report(
    sqlite_services: Services, tmp_path: Path
) -> None:
    svc = sqlite_services
    cid = file_parcel(svc, 1, [("Cotton T-shirt, printed", "610910")])
    arrive(svc, cid)
    snapshot, report = tmp_path / "snapshot", tmp_path / "report"
    export(svc.engine, snapshot)
    write_report(snapshot, report)
    svc.settings = replace(svc.settings, snapshot_dir=str(snapshot), report_dir=str(report))
    with TestClient(create_app(svc)) as client:
        assert client.get("/analyst/statistics", follow_redirects=False).status_code in (302, 303)
        login(client, WebStore(svc.engine, svc.clock), "anna.analyst", "analyst")
        page = client.get("/analyst/statistics")
        assert page.status_code == 200
        assert "Inspection hit rates" in page.text and "Release per lane" in page.text
        served = client.get("/analyst/report/index.html")
        assert served.status_code == 200
        assert served.headers["content-security-policy"].startswith("default-src 'none'")
        assert '<a href="/analyst/statistics">' in served.text and "<main" in served.text
        assert "<style" not in served.text and "<script" not in served.text
        style = client.get("/analyst/report/report.css")
        assert (
            style.status_code == 200
            and "default-src 'none'" in style.headers["content-security-policy"]
        )
        assert client.get("/analyst/report/../../etc/passwd").status_code == 404
        client.get("/lang/fr")
        assert "Taux de résultats des contrôles" in client.get("/analyst/statistics").text
        french = client.get("/analyst/report/index.html").text  # the French page
        assert '<html lang="fr">' in french and "Statistiques Clearway" in french
        assert '<a href="/analyst/statistics">' in french
    # every column and row heading of the French page is in French (the same figures, so the
    # headings pair up), except words both languages write alike
    english, french = (
        (report / page).read_text("utf-8") for page in ("index.html", "index.fr.html")
    )
    heads = [re.findall(r"<th [^>]*>(.*?)</th>", page) for page in (english, french)]
    assert len(heads[0]) == len(heads[1]) > 20
    alike = {a for a, b in zip(*heads, strict=True) if a == b}
    same = {"n", "p90 h", "p95 h", "express", "score", "total", "destinations", "rail"}
    assert alike <= same, alike
    # amounts in the French number format
    assert re.search(r'data-col="value" data-value="\d+\.\d+">\d[\d\u202f\u00a0]*,\d\d<', french)


def test_without_a_snapshot_the_page_says_how_to_make_one(sqlite_services: Services) -> None:
    with TestClient(create_app(sqlite_services)) as client:
        login(
            client, WebStore(sqlite_services.engine, sqlite_services.clock), "bo.analyst", "analyst"
        )
        page = client.get("/analyst/statistics")
        assert page.status_code == 200 and "CLEARWAY_SNAPSHOT_DIR" in page.text

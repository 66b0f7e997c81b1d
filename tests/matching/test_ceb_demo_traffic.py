"""The demo's China traffic: four CEB messages per parcel as Chinese enterprises send them, every
one schema-valid, merged into one parcel that is assessed and decided; a few released parcels
come back (CEB625, then CEB711 with the goods) and are refunded."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.intake import read_content
from clearway.clearance.ports import Filer
from clearway.cli.demo_returns import china_returns
from clearway.cli.main import app
from clearway.domain.text import script_of
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems
from clearway.kernel.clock import FixedClock
from clearway.simulation import cn
from clearway.simulation.channels import messages
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.services import Services

C = "{http://www.chinaport.gov.cn/ceb}"


def test_resident_id_numbers_carry_their_check_character() -> None:
    # the example of GB 11643-1999 itself
    assert cn.id_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    assert cn.id_valid("11010519491231002X") and not cn.id_valid("110105194912310021")


def china_messages(parcels: int = 300, seed: int = 5) -> list[tuple[str, str, bytes]]:
    day = list(TrafficGenerator(seed).parcels(parcels))
    return [(m.operator, m.role, m.content) for m in messages(day, seed) if m.format == "ceb"]


def test_the_china_traffic_is_ceb311_621_411_511_in_chinese() -> None:
    sent = china_messages()
    roots = [parse_xml(content) for _, _, content in sent]
    kinds = defaultdict(int)
    xsd = schema("cn_ceb", "ceb_import_business_node_202205.xsd")
    names: set[str] = set()
    for root in roots:
        assert schema_problems(xsd, root) == []
        kinds[root.tag.split("}")[1]] += 1
        for el in root.iter("{http://www.chinaport.gov.cn/ceb}gname"):
            names.add(el.text or "")
        for el in root.iter("{http://www.chinaport.gov.cn/ceb}buyerIdNumber"):
            assert cn.id_valid(el.text or ""), el.text
        for name in ("ebpCode", "payCode", "logisticsCode", "agentCode"):
            for el in root.iter(f"{{http://www.chinaport.gov.cn/ceb}}{name}"):
                assert len(el.text or "") == 10 and (el.text or "")[:4].isdigit()
    parcels = kinds["CEB311Message"]
    assert parcels >= 10
    assert kinds == {
        "CEB311Message": parcels,
        "CEB621Message": parcels,
        "CEB411Message": parcels,
        "CEB511Message": parcels,
    }
    assert all(script_of(n) == "cjk" for n in names)
    assert any(len(n) == 2 for n in names)  # 手表, 耳机, 香水…: ordinary two-character names


def test_the_china_traffic_merges_into_decided_parcels(services: Services) -> None:
    sent = china_messages(parcels=150)
    filers: dict[tuple[str, str], Filer] = {}
    warnings: list[str] = []
    ids: set[str] = set()
    for operator, role, content in sent:
        if (operator, role) not in filers:
            operator_id = services.operators.ensure(operator, role)
            filers[operator, role] = Filer(operator_id, operator, role)
        _, subs = read_content(content, "ceb")
        for r in services.pipeline.process(filers[operator, role], subs):
            assert r.outcome in ("accepted", "attached"), r
            ids.add(str(r.consignment_id))
            warnings += [p.message for p in r.problems if p.code == "length"]
    loaded = services.store.load_many(sorted(ids))
    assert len(loaded) == len(sent) // 4
    for c in loaded.values():
        assert sorted(c.legs) == ["inventory", "order", "payment", "waybill"]
        assert c.status == "decided" and c.assessment is not None
        assert c.assessment.payable_by == "intermediary"  # the platform withholds the tax
        assert any(f.startswith("cbec_") for f in c.assessment.flags)
    assert warnings == []  # no Chinese goods name is "too short"


def test_some_released_china_parcels_come_back_with_ceb625_and_ceb711(
    services: Services, clock: FixedClock
) -> None:
    day = list(TrafficGenerator(5).parcels(1000))
    returns: list[cn.CnReturn] = []
    sent = [m for m in messages(day, 5, returns) if m.format == "ceb"]
    assert 0 < len(returns) < len(sent) // 4 * 0.1  # a few percent of the China parcels
    # file only the returning parcels' legs (each carries the order number)
    orders = {(r.doc.order.id if r.doc.order else "").encode() for r in returns}
    filers: dict[tuple[str, str], Filer] = {}
    for m in sent:
        if not any(b">" + order + b"<" in m.content for order in orders):
            continue
        key = (m.operator, m.role)
        if key not in filers:
            filers[key] = Filer(services.operators.ensure(*key), *key)
        services.pipeline.process(filers[key], read_content(m.content, "ceb")[1])
    heads = services.store.heads_by_transport_document([r.transport_document for r in returns])
    assert len(heads) == len(returns)
    assert services.accounts is not None
    quota = services.accounts.accounts.quota
    people = {r.transport_document: f"id:{r.doc.buyer.identifier}" for r in returns if r.doc.buyer}
    year = clock.now().year
    # a return is only for a released parcel: the first parcel stays at the border, and a
    # parcel another authority holds is not released either
    kept, *arrived = sorted(returns, key=lambda r: r.transport_document)
    officer = "officer:Demo Border Office"
    services.clearance.arrive([r.transport_document for r in arrived], officer)
    released = []
    for r in arrived:
        cid = heads[r.transport_document].id
        if services.store.load(cid).status != "released":  # type: ignore[union-attr]
            if any(h.authority != "customs" for h in services.store.open_holds([cid])[cid]):
                continue
            services.clearance.act(cid, ActionRequest("record_inspection", officer, found=False))
            services.clearance.act(cid, ActionRequest("release", officer, reason="checked"))
        c = services.store.load(cid)
        assert c is not None and c.status == "released", c.status
        released.append(r)
    assert released
    # release counts the parcel against its orderer's annual quota
    before = {td: quota(person, year)[0] for td, person in people.items()}
    assert all(before[r.transport_document] > 0 for r in released)

    done = china_returns(services, returns, clock)

    n = len(released)
    assert done["requested"] == done["opened"] == done["goods_back"] == n
    # every CEB626 and CEB712 answer validates against the GACC schema
    assert done["receipts_valid"] == n + done["warehouse_entries"]
    assert "receipts_invalid" not in done
    assert done.get("refunds_approved", 0) + done.get("refunds_pending_approval", 0) == n
    assert Decimal(done["refunded"].get("CNY", "0")) > 0
    wiring = services.accounts
    for r in released:
        cid = heads[r.transport_document].id
        [return_id] = wiring.returns.store.returns_of(cid)
        refund = wiring.returns.store.refund_of_return(return_id)
        assert refund is not None and refund.amount > 0 and refund.currency == "CNY"
        assert sorted((i.item, i.quantity) for i in refund.items) == sorted(r.returned)
        # the person's annual quota gets back what came back
        assert quota(people[r.transport_document], year)[0] < before[r.transport_document]
    # parcels never released have no return and their quota stays used
    for r in returns:
        if r not in released:
            assert wiring.returns.store.returns_of(heads[r.transport_document].id) == []
            assert quota(people[r.transport_document], year)[0] == before[r.transport_document]
    assert kept not in released


def test_generate_mixed_writes_the_china_returns_to_file_after_release(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    done = CliRunner().invoke(
        app,
        ["generate", "--parcels", "1000", "--seed", "5", "--format", "mixed", "--out", str(folder)],
    )
    assert done.exit_code == 0, done.output
    later = tmp_path / "day.after-release"  # beside the day: filing the day does not file them
    xsd = schema("cn_ceb", "ceb_import_business_node_202205.xsd")
    kinds: dict[str, list[Any]] = defaultdict(list)
    for path in sorted(later.iterdir()):
        root = parse_xml(path.read_bytes())
        assert schema_problems(xsd, root) == []
        kinds[root.tag.split("}")[1]].append(root)
    assert sorted(kinds) == ["CEB625Message", "CEB711Message"]
    requested = {r.findtext(f".//{C}logisticsNo") for r in kinds["CEB625Message"]}
    entered = {
        el.text for e in kinds["CEB711Message"] for el in e.iter(f"{C}logisticsNo") if el.text
    }
    day = list(TrafficGenerator(5).parcels(1000))
    returns: list[cn.CnReturn] = []
    list(messages(day, 5, returns))
    assert requested == entered == {r.transport_document for r in returns}
    for r in kinds["CEB625Message"]:
        assert r.findtext(f".//{C}InvtRefundList/{C}gname")  # the Chinese goods name
        assert cn.id_valid(r.findtext(f".//{C}buyerIdNumber") or "")

"""The demo's China traffic: four CEB messages per parcel as Chinese enterprises send them, every
one schema-valid, merged into one parcel that is assessed and decided."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from clearway.clearance.intake import read_content
from clearway.clearance.ports import Filer
from clearway.domain.text import script_of
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems
from clearway.simulation import cn
from clearway.simulation.channels import messages
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.services import Services


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

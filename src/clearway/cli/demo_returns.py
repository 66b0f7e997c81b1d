"""The China returns of `clearway demo`: some released parcels come back.

The platform that declared the inventory files a CEB625 return request quoting the inventory
number of its CEB622; days later the logistics company lists the returned waybills on a CEB711
warehouse entry, which claims the refund. Both go through the message gateway's own code
(`clearway.api.ceb_requests`), and every CEB626/CEB712 answer is checked against the GACC schema.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from clearway.api.ceb_requests import process, request_receipt
from clearway.clearance.ports import Filer
from clearway.ingestion.ceb.numbers import inventory_number
from clearway.ingestion.detect import parse
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems
from clearway.kernel.clock import FixedClock
from clearway.simulation.cn import CUSTOMS_CODE, CnReturn, warehouse_entry
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

RETURN_AFTER = timedelta(days=2)  # the orderer has the parcel and asks to send goods back
BACK_AFTER = timedelta(days=4)  # the goods reach the supervised site again


def china_returns(services: Services, returns: list[CnReturn], clock: FixedClock) -> dict[str, Any]:
    """File the returns of the released parcels among `returns`; what happened, counted."""
    out: Counter[str] = Counter()
    wiring = services.accounts
    if wiring is None or not returns:
        return {}
    heads = services.store.heads_by_transport_document([r.transport_document for r in returns])
    released = [
        (r, head.id)
        for r in returns
        if (head := heads.get(r.transport_document)) is not None and head.status == "released"
    ]
    clock.advance(RETURN_AFTER)
    opened: list[tuple[CnReturn, str]] = []
    for r, cid in released:
        year = services.clock.now().year
        invt_no = inventory_number(CUSTOMS_CODE, year, cid)  # as the CEB622 gave it
        code = _file(services, r.platform, "platform", r.request(invt_no, clock.now()), out)
        out["requested"] += 1
        if code == "120":
            out["opened"] += 1
            opened.append((r, cid))
        else:
            out["refused"] += 1
        clock.advance(timedelta(minutes=7))
    clock.advance(BACK_AFTER)
    by_carrier: dict[str, list[tuple[CnReturn, str]]] = defaultdict(list)
    for r, cid in opened:
        by_carrier[r.carrier].append((r, cid))
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for n, (carrier, back) in enumerate(sorted(by_carrier.items()), start=1):
        entry = warehouse_entry(
            [r for r, _ in back], reference=f"RK{clock.now():%Y%m%d}{n:04d}", at=clock.now()
        )
        code = _file(services, carrier, "carrier", entry, out)
        out["warehouse_entries"] += 1
        out["goods_back"] += len(back) if code == "120" else 0
        for _, cid in back:
            for return_id in wiring.returns.store.returns_of(cid):
                refund = wiring.returns.store.refund_of_return(return_id)
                if refund is None:
                    continue
                out[f"refunds_{refund.status}"] += 1
                if refund.status == "approved":
                    refunded[refund.currency] += refund.amount
    summary: dict[str, Any] = dict(out)
    summary["refunded"] = {k: str(v) for k, v in sorted(refunded.items())}
    return summary


def _file(services: Services, operator: str, role: str, content: bytes, out: Counter[str]) -> str:
    """One CEB request through the gateway as `operator`: its receipt's status code. Receipts
    are checked against the GACC schema and counted (`receipts_valid` / `receipts_invalid`)."""
    operator_id = services.operators.ensure(operator, role)
    who = Principal(operator_id, operator, role)
    records = parse(content, "ceb", requests=True).records
    _, answers = process(services, who, Filer(operator_id, operator, role), records, "ceb")
    xsd = schema("cn_ceb", "ceb_import_business_node_202205.xsd")
    codes: list[str] = []
    for i, record in enumerate(records):
        answer = answers[i]
        receipt = parse_xml(request_receipt(record, answer, services.clock.now()).encode())
        out["receipts_invalid" if schema_problems(xsd, receipt) else "receipts_valid"] += 1
        codes.append(answer.code)
    return codes[0] if codes else "100"

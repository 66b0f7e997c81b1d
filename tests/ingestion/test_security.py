from __future__ import annotations

import pytest

from clearway.ingestion.detect import parse
from clearway.ingestion.records import FormatError
from clearway.ingestion.xml_safety import parse_xml

NS = 'xmlns:ns2="urn:wco:datamodel:WCO:DEC-DMS:2"'

XXE = f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ns2:Declaration {NS}><ns2:FunctionCode>&xxe;</ns2:FunctionCode></ns2:Declaration>""".encode()

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>"
)

NETWORK_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://attacker.test/x.dtd">'
    b'<ns2:Declaration xmlns:ns2="urn:wco:datamodel:WCO:DEC-DMS:2"/>'
)

UTF16_XXE = (
    XXE.decode()
    .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    .encode("utf-16")
)


@pytest.mark.parametrize(
    "payload", [XXE, BILLION_LAUGHS, NETWORK_DTD, UTF16_XXE], ids=["xxe", "laughs", "dtd", "utf16"]
)
def test_dtd_and_entities_are_refused(payload: bytes) -> None:
    with pytest.raises(FormatError) as caught:
        parse(payload, "h7")
    assert caught.value.problems[0].code == "xml.dtd_forbidden"
    assert "not accepted" in caught.value.detail


def test_deeply_nested_document_is_refused() -> None:
    deep = b"<a>" * 5000 + b"</a>" * 5000
    with pytest.raises(FormatError) as caught:
        parse_xml(deep)
    assert caught.value.problems[0].code == "xml.too_deep"


def test_huge_document_is_refused_before_parsing() -> None:
    huge = b"<a>" + b"x" * (9 * 1024 * 1024) + b"</a>"
    with pytest.raises(FormatError) as caught:
        parse_xml(huge)
    assert caught.value.problems[0].code == "xml.too_large"


def test_too_many_elements_is_refused() -> None:
    wide = b"<a>" + b"<b/>" * 1000 + b"</a>"
    with pytest.raises(FormatError) as caught:
        parse_xml(wide, max_elements=500)
    assert caught.value.problems[0].code == "xml.too_many_elements"


def test_malformed_xml_is_a_clean_error() -> None:
    with pytest.raises(FormatError) as caught:
        parse(b"<ns2:Declaration xmlns:ns2='urn:wco:datamodel:WCO:DEC-DMS:2'><oops>", "h7")
    assert caught.value.problems[0].code == "xml.malformed"


def test_wrong_root_for_declared_format() -> None:
    with pytest.raises(FormatError):
        parse(b"<x xmlns='http://www.chinaport.gov.cn/ceb'/>", "h7")
    with pytest.raises(FormatError):
        parse(b"<x/>", "ceb")

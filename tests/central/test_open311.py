"""Open311 GeoReport v2 at a real hub process (SQLite and PostgreSQL), read with the PyPI ``georeport``
client in JSON and XML; posts (the client has no POST) with ``requests`` and a registered app's key."""
import pytest
import requests
from georeport import GeoReport

from tests.sync.conftest import module_hub, motcua  # noqa: F401  (fixture)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x33" * 4000
PHONE = "0912345678"


@pytest.fixture(scope="module")
def key(module_hub):  # noqa: F811
    return motcua("hub", "open311-key", "add", "Ứng dụng phản ánh tỉnh", *module_hub.args).stdout.strip()


def post(hub, fmt="json", files=None, **fields):
    return requests.post(f"{hub.url}/open311/v2/requests.{fmt}", data=fields, files=files, timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_their_definition_through_the_georeport_client(module_hub, fmt):  # noqa: F811
    client = GeoReport(module_hub.url + "/open311/v2", output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert codes[:3] == ["moi-truong", "giao-thong", "chieu-sang"] and "khac" in codes
    lighting = next(s for s in services if s["service_code"] == "chieu-sang")
    assert lighting["service_name"] == "Điện chiếu sáng" and lighting["type"] == "realtime"
    assert lighting["metadata"] in (True, "true")
    definition = client.get_service_definition("chieu-sang")
    assert definition["service_code"] == "chieu-sang"
    attribute = definition["attributes"][0] if fmt == "json" else definition["attributes"]["attribute"]
    assert attribute["code"] == "commune" and attribute["required"] in (True, "true")


def test_a_client_app_posts_with_its_key_and_reads_the_request_back_without_personal_data(module_hub, key):  # noqa: F811
    refused = post(module_hub, service_code="chieu-sang", lat="21.45", long="105.82", description="Đèn hỏng cả tuần nay",
                   **{"attribute[commune]": "05518", "api_key": "sai-khoa"})
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    sent = post(module_hub, service_code="chieu-sang", lat="21.451234", long="105.821234", api_key=key,
                description="Đèn đường ngõ 5 hỏng cả tuần nay", phone="+84 912 345 678", first_name="An",
                address_string="Số 7 ngõ 5 Thắng Lợi", files=[("media", ("den.jpg", JPEG, "image/jpeg"))],
                **{"attribute[commune]": "05518"})
    assert sent.status_code == 201, sent.text
    [answer] = sent.json()
    request_id = answer["service_request_id"]
    assert request_id.startswith("PA-") and "hạn trả lời" in answer["service_notice"]
    assert module_hub.query(f"select phone, commune, source from field_report where code = '{request_id}'") == \
        [(PHONE, "05518", "open311:Ứng dụng phản ánh tỉnh")]
    for fmt in ("json", "xml"):
        client = GeoReport(module_hub.url + "/open311/v2", output_format=fmt)
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id and one["status"] == "open"
        assert one["service_code"] == "chieu-sang" and one["address"] == "Phường Sông Công"
        assert float(one["lat"]) == 21.451 and float(one["long"]) == 105.821  # coarse
        assert one["requested_datetime"].endswith("+07:00")
        media = one["media_url"]
        assert media.startswith(module_hub.url + "/phan-anh/anh/")
        assert requests.get(media, timeout=10).content == JPEG
        text = requests.get(f"{module_hub.url}/open311/v2/requests/{request_id}.{fmt}", timeout=10).text
        assert "912345678" not in text and "Thắng Lợi" not in text and "An<" not in text
        listed = client.get_service_requests(service_code="chieu-sang", status="open")
        listed = listed if isinstance(listed, list) else [listed]
        assert request_id in [r["service_request_id"] for r in listed]
        assert request_id in _ids(client.get_service_requests(service_request_id=request_id))
        for empty in ({"service_code": "chieu-sang", "status": "closed"},
                      {"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"}):
            if fmt == "json":
                assert client.get_service_requests(**empty) == []
            else:  # the client cannot read an empty XML list: the document itself
                got = requests.get(f"{module_hub.url}/open311/v2/requests.xml", params=empty, timeout=10)
                assert got.text == '<?xml version="1.0" encoding="utf-8"?><service_requests />'


def _ids(found):
    if not found:
        return []
    return [r["service_request_id"] for r in (found if isinstance(found, list) else [found])]


def test_errors_come_in_the_specs_shape_in_json_and_xml(module_hub, key):  # noqa: F811
    missing = post(module_hub, api_key=key, service_code="chieu-sang", description="Đèn hỏng cả tuần nay", lat="21",
                   long="105")
    assert missing.status_code == 400 and "attribute[commune]" in missing.json()[0]["description"]
    unknown = post(module_hub, "xml", api_key=key, service_code="khong-co", lat="21", long="105",
                   description="Đèn hỏng cả tuần nay", **{"attribute[commune]": "05518"})
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("text/xml")
    assert "<errors><error><code>404</code><description>" in unknown.text
    nowhere = post(module_hub, api_key=key, service_code="khac", description="Không có vị trí nào cả",
                   **{"attribute[commune]": "05518"})
    assert nowhere.status_code == 400 and "lat" in nowhere.json()[0]["description"]
    not_a_photo = post(module_hub, api_key=key, service_code="khac", description="Ảnh giả mạo gửi lên",
                       address_string="Tổ 3", files=[("media", ("x.jpg", b"MZ\x90\x00", "image/jpeg"))],
                       **{"attribute[commune]": "05518"})
    assert not_a_photo.status_code == 400 and "không phải ảnh" in not_a_photo.json()[0]["description"]
    assert requests.get(f"{module_hub.url}/open311/v2/requests/PA-KHONGCO.json", timeout=10).json() == \
        [{"code": 404, "description": "Không có phản ánh công khai PA-KHONGCO."}]
    bad_date = requests.get(f"{module_hub.url}/open311/v2/requests.json?start_date=hom-qua", timeout=10)
    assert bad_date.status_code == 400 and "W3C" in bad_date.json()[0]["description"]
    assert requests.get(f"{module_hub.url}/open311/v2/services.csv", timeout=10).status_code == 404

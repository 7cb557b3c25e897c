"""A form file kept at the hub is offered from the public address (the hub's), which a phone on
mobile data can open: a link on the phone, a QR code at the kiosk; never the office LAN."""
from office.catalog import Procedure, validate
from sync.capture import applying_remote

SHA = "ab" * 32
ROW = {"code": "1.001193", "name": "Thủ tục đăng ký khai sinh", "levels": "Cấp Xã",
       "documents": [{"group": "nop", "name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0,
                      "form": "To khai.docx", "form_sha256": SHA, "form_size": 18000}]}


def test_form_file_link_points_at_the_public_address(app, client, settings):
    settings["public_tracking_url"] = "https://dichvucong.thainguyen.example/"
    clean, reasons = validate(ROW)
    assert not reasons
    with applying_remote():
        Procedure.insert(id="p-ks", commune="*", **clean).execute()
    phone = client.get("/procedures/1.001193").get_data(as_text=True)
    assert f'href="https://dichvucong.thainguyen.example/forms/{SHA}/To%20khai.docx"' in phone
    kiosk = client.get("/procedures/1.001193?kiosk=1").get_data(as_text=True)
    assert "Quét mã để tải mẫu To khai.docx về điện thoại" in kiosk and "<svg" in kiosk

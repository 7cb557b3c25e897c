"""A sample catalog in the import shape, for the demo, the tests and the search benchmark.

    python -m office.catalog_sample --count 500 --out catalog.json

The first procedures are common commune-level ones (names as citizens know them; codes
illustrative); the rest are numbered variants so any size can be made.
"""
import argparse
import json
import random

COMMON = (
    ("Hộ tịch", "Đăng ký khai sinh", 0, "Giấy khai sinh", ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]),
    ("Hộ tịch", "Đăng ký khai tử", 0, "Trích lục khai tử", ["Tờ khai đăng ký khai tử", "Giấy báo tử"]),
    ("Hộ tịch", "Đăng ký kết hôn", 0, "Giấy chứng nhận kết hôn", ["Tờ khai đăng ký kết hôn"]),
    ("Hộ tịch", "Đăng ký lại khai sinh", 5, "Giấy khai sinh", ["Tờ khai đăng ký lại khai sinh"]),
    ("Hộ tịch", "Cấp giấy xác nhận tình trạng hôn nhân", 3, "Giấy xác nhận tình trạng hôn nhân",
     ["Tờ khai cấp giấy xác nhận tình trạng hôn nhân"]),
    ("Hộ tịch", "Đăng ký nhận cha, mẹ, con", 3, "Trích lục đăng ký nhận cha, mẹ, con", ["Tờ khai"]),
    ("Hộ tịch", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", 3, "Trích lục", ["Tờ khai"]),
    ("Chứng thực", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", 0, "Bản sao được chứng thực",
     ["Bản chính giấy tờ", "Bản sao cần chứng thực"]),
    ("Chứng thực", "Chứng thực chữ ký trong các giấy tờ, văn bản", 0, "Giấy tờ được chứng thực chữ ký",
     ["Giấy tờ cần chứng thực chữ ký"]),
    ("Chứng thực", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", 2,
     "Hợp đồng được chứng thực", ["Dự thảo hợp đồng", "Giấy tờ tùy thân"]),
    ("Đất đai", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", 20, "Giấy chứng nhận quyền sử dụng đất",
     ["Đơn đăng ký", "Giấy tờ về quyền sử dụng đất"]),
    ("Đất đai", "Hòa giải tranh chấp đất đai", 30, "Biên bản hòa giải", ["Đơn yêu cầu hòa giải"]),
    ("Lao động – Thương binh và Xã hội", "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình", 5,
     "Giấy xác nhận", ["Đơn đề nghị"]),
    ("Lao động – Thương binh và Xã hội", "Trợ cấp xã hội hằng tháng đối với người cao tuổi", 7,
     "Quyết định trợ cấp", ["Tờ khai đề nghị trợ giúp xã hội"]),
    ("Tư pháp", "Đăng ký hoạt động tín ngưỡng", 15, "Văn bản chấp thuận", ["Văn bản đăng ký"]),
    ("Văn hóa", "Công nhận gia đình văn hóa", 5, "Giấy khen", ["Đơn đề nghị"]),
    ("Nông nghiệp", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai", 10, "Quyết định hỗ trợ",
     ["Đơn đề nghị hỗ trợ"]),
    ("Giáo dục", "Xét, cấp học bổng chính sách", 10, "Quyết định cấp học bổng", ["Đơn đề nghị"]),
)
ONLINE = ("toan_trinh", "mot_phan", "")


def procedure(number, field, name, days, result, components, rng):
    return {
        "code": f"{1 + number % 2}.{number:06d}",
        "name": name,
        "level": "xa",
        "field": field,
        "agency": "Ủy ban nhân dân cấp xã",
        "steps": ["Bước 1: Nộp hồ sơ tại Bộ phận một cửa", "Bước 2: Công chức tiếp nhận, kiểm tra hồ sơ",
                  "Bước 3: Giải quyết và trả kết quả"],
        "ways": [{"way": "truc_tiep", "days": days, "hours": 0, "fee": rng.choice(["Miễn lệ phí", "8.000 đồng"]),
                  "note": ""},
                 {"way": "truc_tuyen", "days": days, "hours": 0, "fee": "Miễn lệ phí", "note": ""}],
        "components": [{"name": c, "copies": 1} for c in components],
        "requirements": "Không",
        "legal_basis": ["Luật Hộ tịch số 60/2014/QH13", "Nghị định số 123/2015/NĐ-CP"],
        "result": result,
        "online_level": rng.choice(ONLINE),
    }


def sample(count, seed=7):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        field, name, days, result, components = COMMON[i % len(COMMON)]
        if i >= len(COMMON):
            name = f"{name} (trường hợp {i // len(COMMON) + 1})"
        rows.append(procedure(1000 + i, field, name, days, result, components, rng))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(sample(args.count), out, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

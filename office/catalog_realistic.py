"""Real-looking procedure records for the search's tests and benchmark.

``COMMON``: procedures as the national portal names them (with their "Thủ tục" prefix where
the portal keeps it, their result and field; codes as published where known, else
illustrative). ``realistic(count)`` adds provincial and sector procedures built from the
portal's usual forms (cấp, cấp lại, gia hạn, điều chỉnh, thu hồi... of a licence or a
certificate) so a catalog of any size reads like the real one, with the same vocabulary.
"""
import random

COMMON = (
    ("1.001193", "Thủ tục đăng ký khai sinh", "Hộ tịch", "Giấy khai sinh"),
    ("1.000656", "Thủ tục đăng ký khai tử", "Hộ tịch", "Trích lục khai tử"),
    ("1.000894", "Thủ tục đăng ký kết hôn", "Hộ tịch", "Giấy chứng nhận kết hôn"),
    ("1.001022", "Thủ tục đăng ký khai sinh kết hợp đăng ký nhận cha, mẹ, con", "Hộ tịch",
     "Giấy khai sinh, Trích lục đăng ký nhận cha, mẹ, con"),
    ("1.000689", "Thủ tục đăng ký nhận cha, mẹ, con", "Hộ tịch", "Trích lục đăng ký nhận cha, mẹ, con"),
    ("1.004873", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", "Giấy xác nhận tình trạng hôn nhân"),
    ("1.004859", "Thủ tục đăng ký thay đổi, cải chính, bổ sung hộ tịch, xác định lại dân tộc", "Hộ tịch",
     "Trích lục thay đổi, cải chính, bổ sung hộ tịch"),
    ("1.004884", "Thủ tục đăng ký lại khai sinh", "Hộ tịch", "Giấy khai sinh"),
    ("1.004746", "Thủ tục đăng ký lại kết hôn", "Hộ tịch", "Giấy chứng nhận kết hôn"),
    ("1.005461", "Thủ tục đăng ký lại khai tử", "Hộ tịch", "Trích lục khai tử"),
    ("2.000528", "Thủ tục đăng ký kết hôn có yếu tố nước ngoài", "Hộ tịch", "Giấy chứng nhận kết hôn"),
    ("2.000806", "Thủ tục đăng ký khai sinh có yếu tố nước ngoài", "Hộ tịch", "Giấy khai sinh"),
    ("2.000779", "Thủ tục đăng ký khai tử có yếu tố nước ngoài", "Hộ tịch", "Trích lục khai tử"),
    ("1.000110", "Thủ tục đăng ký giám hộ", "Hộ tịch", "Trích lục đăng ký giám hộ"),
    ("1.000593", "Thủ tục đăng ký chấm dứt giám hộ", "Hộ tịch", "Trích lục đăng ký chấm dứt giám hộ"),
    ("2.000635", "Thủ tục cấp bản sao Trích lục hộ tịch", "Hộ tịch", "Bản sao trích lục hộ tịch"),
    ("1.003583", "Thủ tục đăng ký khai sinh lưu động", "Hộ tịch", "Giấy khai sinh"),
    ("1.004827", "Thủ tục đăng ký kết hôn lưu động", "Hộ tịch", "Giấy chứng nhận kết hôn"),
    ("1.001695", "Thủ tục đăng ký khai tử lưu động", "Hộ tịch", "Trích lục khai tử"),
    ("1.000419", "Thủ tục ghi vào Sổ hộ tịch việc hộ tịch khác của công dân Việt Nam đã được giải quyết tại cơ quan "
     "có thẩm quyền của nước ngoài", "Hộ tịch", "Trích lục ghi chú hộ tịch"),
    ("2.000815", "Thủ tục chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền "
     "của Việt Nam cấp hoặc chứng nhận", "Chứng thực", "Bản sao được chứng thực từ bản chính"),
    ("2.000884", "Thủ tục chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực",
     "Giấy tờ, văn bản được chứng thực chữ ký"),
    ("2.001035", "Thủ tục chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất "
     "và nhà ở", "Chứng thực", "Hợp đồng, giao dịch được chứng thực"),
    ("2.001019", "Thủ tục chứng thực di chúc", "Chứng thực", "Di chúc được chứng thực"),
    ("2.001016", "Thủ tục chứng thực văn bản thỏa thuận phân chia di sản", "Chứng thực",
     "Văn bản thỏa thuận phân chia di sản được chứng thực"),
    ("2.001044", "Thủ tục chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "Chứng thực",
     "Hợp đồng, giao dịch được chứng thực"),
    ("1.001669", "Thủ tục cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực",
     "Chứng thực", "Bản sao có chứng thực"),
    ("1.003003", "Thủ tục đăng ký đất đai, tài sản gắn liền với đất lần đầu", "Đất đai",
     "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"),
    ("1.012790", "Thủ tục đăng ký biến động đất đai, tài sản gắn liền với đất", "Đất đai",
     "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"),
    ("1.001991", "Thủ tục hòa giải tranh chấp đất đai", "Đất đai", "Biên bản hòa giải thành hoặc không thành"),
    ("1.004227", "Thủ tục cấp đổi Giấy chứng nhận quyền sử dụng đất", "Đất đai",
     "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"),
    ("1.005194", "Thủ tục chuyển mục đích sử dụng đất", "Đất đai", "Quyết định cho phép chuyển mục đích sử dụng đất"),
    ("1.004269", "Thủ tục tách thửa hoặc hợp thửa đất", "Đất đai", "Giấy chứng nhận quyền sử dụng đất"),
    ("1.004194", "Thủ tục đăng ký thường trú", "Đăng ký, quản lý cư trú", "Thông báo kết quả đăng ký thường trú"),
    ("1.004222", "Thủ tục đăng ký tạm trú", "Đăng ký, quản lý cư trú", "Thông báo kết quả đăng ký tạm trú"),
    ("1.010735", "Thủ tục xóa đăng ký thường trú", "Đăng ký, quản lý cư trú", "Thông báo xóa đăng ký thường trú"),
    ("1.010736", "Thủ tục khai báo tạm vắng", "Đăng ký, quản lý cư trú", "Phiếu khai báo tạm vắng"),
    ("1.003130", "Thủ tục thông báo lưu trú", "Đăng ký, quản lý cư trú", "Thông tin lưu trú được cập nhật"),
    ("1.001612", "Thủ tục hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "Bảo trợ xã hội",
     "Quyết định hỗ trợ chi phí mai táng"),
    ("1.001776", "Thủ tục trợ cấp xã hội hằng tháng đối với người cao tuổi", "Bảo trợ xã hội",
     "Quyết định trợ cấp xã hội hằng tháng"),
    ("1.001731", "Thủ tục xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật",
     "Bảo trợ xã hội", "Giấy xác nhận khuyết tật"),
    ("1.000489", "Thủ tục xác nhận hộ gia đình làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức sống trung bình",
     "Bảo trợ xã hội", "Giấy xác nhận"),
    ("1.004946", "Thủ tục công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", "Bảo trợ xã hội",
     "Giấy chứng nhận hộ nghèo, hộ cận nghèo"),
    ("1.010805", "Thủ tục đăng ký khai thác tuyến vận tải", "Đường bộ", "Thông báo khai thác tuyến"),
    ("1.003622", "Thủ tục đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "Giấy chứng nhận đăng ký hộ kinh doanh"),
    ("2.000720", "Thủ tục đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "Giấy chứng nhận đăng ký hộ kinh doanh"),
    ("1.001570", "Thủ tục tạm ngừng hoạt động hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "Giấy xác nhận tạm ngừng kinh doanh"),
    ("1.001266", "Thủ tục chấm dứt hoạt động hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "Thông báo chấm dứt hoạt động hộ kinh doanh"),
    ("1.003596", "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng", "Giấy phép xây dựng"),
    ("1.009994", "Thủ tục cấp giấy phép sửa chữa, cải tạo công trình", "Hoạt động xây dựng", "Giấy phép xây dựng"),
    ("1.003624", "Thủ tục xét tặng danh hiệu Gia đình văn hóa hằng năm", "Văn hóa cơ sở", "Giấy khen Gia đình văn hóa"),
    ("1.000954", "Thủ tục đăng ký hoạt động tín ngưỡng", "Tín ngưỡng, tôn giáo", "Văn bản chấp thuận"),
    ("1.001085", "Thủ tục thông báo tổ chức lễ hội", "Văn hóa cơ sở", "Văn bản tiếp nhận thông báo"),
    ("1.000775", "Thủ tục đăng ký nghĩa vụ quân sự lần đầu", "Nghĩa vụ quân sự",
     "Giấy chứng nhận đăng ký nghĩa vụ quân sự"),
    ("1.004472", "Thủ tục hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", "Nông nghiệp",
     "Quyết định hỗ trợ"),
    ("1.005097", "Thủ tục xét, cấp học bổng chính sách", "Giáo dục", "Quyết định cấp học bổng"),
    ("1.004440", "Thủ tục cho phép trường mầm non hoạt động giáo dục", "Giáo dục", "Quyết định cho phép hoạt động"),
    ("1.002038", "Thủ tục giải quyết chế độ trợ cấp một lần đối với thân nhân người có công với cách mạng từ trần",
     "Người có công", "Quyết định trợ cấp một lần"),
    ("1.010822", "Thủ tục cấp giấy xác nhận thân nhân của người có công", "Người có công", "Giấy xác nhận"),
    ("1.008003", "Thủ tục cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", "Bảo hiểm y tế", "Thẻ bảo hiểm y tế"),
    ("1.009648", "Thủ tục giải quyết hưởng chế độ tử tuất", "Bảo hiểm xã hội", "Quyết định hưởng chế độ tử tuất"),
    ("1.003465", "Thủ tục đăng ký sử dụng con dấu", "Quản lý con dấu", "Giấy chứng nhận đăng ký mẫu con dấu"),
    ("1.001257", "Thủ tục giải quyết tố cáo tại cấp xã", "Giải quyết tố cáo", "Kết luận nội dung tố cáo"),
    ("2.002156", "Thủ tục giải quyết khiếu nại lần đầu", "Giải quyết khiếu nại", "Quyết định giải quyết khiếu nại"),
    ("1.001162", "Thủ tục tiếp công dân tại cấp xã", "Tiếp công dân", "Thông báo kết quả tiếp công dân"),
    ("1.000748", "Thủ tục cấp Phiếu lý lịch tư pháp", "Lý lịch tư pháp", "Phiếu lý lịch tư pháp"),
    ("1.004228", "Thủ tục cấp giấy phép lái xe", "Đường bộ", "Giấy phép lái xe"),
    ("1.002809", "Thủ tục đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "Đường bộ", "Giấy phép lái xe"),
    ("1.001639", "Thủ tục cấp thẻ Căn cước", "Căn cước", "Thẻ căn cước"),
    ("1.001600", "Thủ tục cấp đổi thẻ Căn cước", "Căn cước", "Thẻ căn cước"),
    ("1.002020", "Thủ tục cấp hộ chiếu phổ thông ở trong nước", "Xuất nhập cảnh", "Hộ chiếu phổ thông"),
    ("1.003005", "Thủ tục đăng ký xe", "Đăng ký, quản lý phương tiện giao thông",
     "Giấy chứng nhận đăng ký xe, biển số"),
    ("1.001227", "Thủ tục cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm", "An toàn thực phẩm",
     "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"),
    ("1.000144", "Thủ tục cấp giấy phép kinh doanh karaoke", "Văn hóa", "Giấy phép kinh doanh dịch vụ karaoke"),
    ("1.002425", "Thủ tục cấp giấy phép khai thác nước dưới đất", "Tài nguyên nước",
     "Giấy phép khai thác nước dưới đất"),
    ("1.004253", "Thủ tục đăng ký kế hoạch bảo vệ môi trường", "Môi trường", "Văn bản xác nhận"),
    ("1.000047", "Thủ tục cấp giấy phép đào tạo lái xe", "Đường bộ", "Giấy phép đào tạo lái xe"),
    ("1.005392", "Thủ tục đăng ký thành lập hợp tác xã", "Hợp tác xã", "Giấy chứng nhận đăng ký hợp tác xã"),
    ("1.004475", "Thủ tục cấp giấy phép lao động cho người lao động nước ngoài", "Việc làm", "Giấy phép lao động"),
    ("1.001978", "Thủ tục giải quyết hưởng trợ cấp thất nghiệp", "Việc làm", "Quyết định hưởng trợ cấp thất nghiệp"),
    ("1.003141", "Thủ tục cấp giấy chứng nhận quyền sở hữu nhà ở", "Nhà ở", "Giấy chứng nhận quyền sở hữu nhà ở"),
    ("1.004663", "Thủ tục phê duyệt đối tượng được hỗ trợ tiền điện", "Bảo trợ xã hội", "Danh sách hộ được hỗ trợ"),
    ("1.003347", "Thủ tục đăng ký nuôi con nuôi trong nước", "Nuôi con nuôi", "Giấy chứng nhận nuôi con nuôi"),
    ("1.003005", "Thủ tục đăng ký lại việc nuôi con nuôi trong nước", "Nuôi con nuôi", "Giấy chứng nhận nuôi con nuôi"),
)

SUBJECTS = (  # (a licence or certificate, its field)
    ("giấy phép kinh doanh dịch vụ lữ hành nội địa", "Du lịch"),
    ("giấy phép bán lẻ rượu", "Lưu thông hàng hóa"),
    ("giấy phép bán lẻ sản phẩm thuốc lá", "Lưu thông hàng hóa"),
    ("giấy chứng nhận đủ điều kiện kinh doanh dược", "Dược phẩm"),
    ("chứng chỉ hành nghề khám bệnh, chữa bệnh", "Khám bệnh, chữa bệnh"),
    ("giấy phép hoạt động khám bệnh, chữa bệnh", "Khám bệnh, chữa bệnh"),
    ("chứng chỉ hành nghề môi giới bất động sản", "Kinh doanh bất động sản"),
    ("giấy phép khai thác khoáng sản", "Khoáng sản"),
    ("giấy phép xả nước thải vào nguồn nước", "Tài nguyên nước"),
    ("giấy phép môi trường", "Môi trường"),
    ("giấy phép hoạt động điện lực", "Điện"),
    ("giấy chứng nhận đủ điều kiện kinh doanh xăng dầu", "Kinh doanh khí"),
    ("giấy phép thành lập trung tâm ngoại ngữ, tin học", "Giáo dục"),
    ("giấy phép tổ chức biểu diễn nghệ thuật", "Nghệ thuật biểu diễn"),
    ("giấy phép quảng cáo", "Quảng cáo"),
    ("giấy chứng nhận cơ sở đủ điều kiện chăn nuôi", "Chăn nuôi"),
    ("giấy chứng nhận kiểm dịch động vật", "Thú y"),
    ("giấy phép vận chuyển hàng nguy hiểm", "Đường bộ"),
    ("giấy phép kinh doanh vận tải bằng xe ô tô", "Đường bộ"),
    ("phù hiệu xe ô tô kinh doanh vận tải", "Đường bộ"),
    ("giấy phép thi công công trình trên đường bộ", "Đường bộ"),
    ("chứng chỉ năng lực hoạt động xây dựng", "Hoạt động xây dựng"),
    ("giấy phép di dời công trình", "Hoạt động xây dựng"),
    ("giấy phép thành lập cơ sở trợ giúp xã hội", "Bảo trợ xã hội"),
    ("giấy phép hoạt động dịch vụ việc làm", "Việc làm"),
    ("giấy chứng nhận đăng ký hoạt động văn phòng công chứng", "Công chứng"),
    ("thẻ công chứng viên", "Công chứng"),
    ("giấy đăng ký hoạt động của tổ chức hành nghề luật sư", "Luật sư"),
    ("chứng chỉ hành nghề đấu giá", "Đấu giá tài sản"),
    ("giấy phép sử dụng vật liệu nổ công nghiệp", "Vật liệu nổ công nghiệp"),
    ("giấy chứng nhận đủ điều kiện về an ninh, trật tự", "Quản lý ngành nghề kinh doanh có điều kiện"),
    ("giấy phép hoạt động in", "Xuất bản, in và phát hành"),
    ("giấy phép thiết lập trang thông tin điện tử tổng hợp", "Phát thanh, truyền hình và thông tin điện tử"),
    ("giấy phép hoạt động của cơ sở giáo dục nghề nghiệp", "Giáo dục nghề nghiệp"),
    ("giấy chứng nhận vùng an toàn dịch bệnh", "Thú y"),
    ("giấy phép nuôi trồng thủy sản", "Thủy sản"),
    ("giấy phép khai thác thủy sản", "Thủy sản"),
    ("giấy chứng nhận cơ sở sản xuất giống cây trồng", "Trồng trọt"),
    ("giấy phép xây dựng công trình thủy lợi", "Thủy lợi"),
    ("giấy phép sử dụng tần số vô tuyến điện", "Tần số vô tuyến điện"),
)
FORMS = ("Thủ tục cấp {}", "Thủ tục cấp lại {}", "Thủ tục gia hạn {}", "Thủ tục điều chỉnh {}",
         "Thủ tục cấp đổi {}", "Thủ tục thu hồi {}", "Thủ tục điều chỉnh nội dung {}", "Thủ tục cấp bổ sung {}",
         "Thủ tục cấp {} cho tổ chức", "Thủ tục cấp {} cho cá nhân", "Thủ tục cấp {} trong trường hợp bị mất",
         "Thủ tục cấp {} có yếu tố nước ngoài", "Thủ tục công nhận {}", "Thủ tục cấp {} lần đầu")
QUALIFIERS = ("", " đối với tổ chức kinh tế", " đối với hộ kinh doanh, cá nhân", " do thay đổi địa điểm",
              " khi hết thời hạn", " do bị mất, hư hỏng")
AGENCIES = ("Ủy ban nhân dân cấp xã", "Ủy ban nhân dân cấp tỉnh", "Sở Tư pháp", "Sở Y tế", "Sở Xây dựng",
            "Sở Nông nghiệp và Môi trường", "Sở Công Thương", "Công an cấp xã", "Sở Văn hóa, Thể thao và Du lịch")


def record(code, name, field, result, agency="Ủy ban nhân dân cấp xã", level="xa", days=3):
    """A procedure in the catalog's import shape."""
    return {"code": code, "name": name, "level": level, "field": field, "agency": agency,
            "steps": ["Bước 1: Nộp hồ sơ tại Trung tâm Phục vụ hành chính công", "Bước 2: Tiếp nhận, kiểm tra hồ sơ",
                      "Bước 3: Giải quyết và trả kết quả"],
            "ways": [{"way": "truc_tiep", "days": days, "hours": 0, "fee": "Miễn lệ phí", "note": ""},
                     {"way": "truc_tuyen", "days": days, "hours": 0, "fee": "Miễn lệ phí", "note": ""}],
            "components": [{"name": "Tờ khai theo mẫu", "copies": 1}], "requirements": "",
            "legal_basis": [], "result": result, "online_level": "mot_phan"}


def common():
    """The procedures of ``COMMON`` in the import shape (duplicated codes made unique)."""
    seen, rows = set(), []
    for number, (code, name, field, result) in enumerate(COMMON):
        if code in seen:
            code = f"3.{900000 + number:06d}"
        seen.add(code)
        rows.append(record(code, name, field, result, days=number % 7))
    return rows


def realistic(count, seed=11):
    """``count`` procedures: the common ones first, then provincial and sector ones of the same vocabulary."""
    rng = random.Random(seed)
    rows = common()[:count]
    number = 0
    while len(rows) < count:
        subject, field = SUBJECTS[number % len(SUBJECTS)]
        form = FORMS[(number // len(SUBJECTS)) % len(FORMS)]
        round_ = number // (len(SUBJECTS) * len(FORMS))
        name = form.format(subject) + QUALIFIERS[round_ % len(QUALIFIERS)]
        if round_ >= len(QUALIFIERS):
            name += f" (lần {round_ // len(QUALIFIERS) + 1})"
        rows.append(record(f"2.{100000 + number:06d}", name, field, subject[0].upper() + subject[1:],
                           agency=rng.choice(AGENCIES), level=rng.choice(("xa", "tinh", "tinh")),
                           days=rng.choice((1, 3, 5, 10, 15, 20))))
        number += 1
    return rows

"""Health checks of a box, for the technician console and the support bundle.

Each check is a pure function of what was measured and returns one result:
``{key, title, status, value, remedy}`` where ``status`` is ``ok``, ``warning`` or
``problem``, ``value`` says what was seen and ``remedy`` (Vietnamese) what to do about it.
The ``read_*`` / ``probe_*`` helpers next to them do the measuring (files under /proc and
/sys, netifaces, HTTP, the printer); every one takes its source as an argument, so tests
hand them crafted inputs.
"""
import glob
import logging
import shutil
import socket
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from motcua.logs import rotating_file_handler

log = logging.getLogger("motcua.health")

OK, WARNING, PROBLEM = "ok", "warning", "problem"
SEVERITY = {PROBLEM: 0, WARNING: 1, OK: 2}
STATUS_LABELS = {OK: "Bình thường", WARNING: "Cảnh báo", PROBLEM: "Sự cố"}

CLOCK_FLOOR = datetime(2024, 1, 1)  # a box clock before this has never been set
HUB_UNREACHABLE_REMEDY = "Kiểm tra dây mạng/modem; hộp vẫn hoạt động và sẽ tự gửi dữ liệu khi có mạng."
TLS_MISMATCH = "chứng chỉ TLS của trung tâm không khớp với chứng chỉ đã ghim khi cài đặt hộp"
TLS_REMEDY = ("Hộp không gửi dữ liệu cho máy có chứng chỉ khác (có thể không phải trung tâm thật); dữ liệu vẫn giữ "
              "trên hộp. Báo kỹ thuật trung tâm: nếu trung tâm đã đổi chứng chỉ, cài lại hộp bằng gói cài đặt mới.")
PRINTER_DISCONNECTED = "Máy in không kết nối: kiểm tra cáp USB và nguồn máy in, rồi bấm In thử"
NETWORK_REMEDY = ("Kiểm tra dây mạng từ hộp đến modem/switch (đèn ở cổng mạng phải sáng) và modem đang bật; "
                  "hộp vẫn phục vụ kiosk và quầy trong phòng.")


def result(key, title, status, value, remedy=""):
    return {"key": key, "title": title, "status": status, "value": value, "remedy": remedy if status != OK else ""}


def worst(results):
    """The most serious status among ``results`` (ok when empty)."""
    return min((r["status"] for r in results), key=SEVERITY.__getitem__, default=OK)


def by_severity(results):
    """Problems first, then warnings, then the rest, keeping the original order within each."""
    return sorted(results, key=lambda r: SEVERITY[r["status"]])


def _num(value, digits=1):
    """A number the Vietnamese way: 12,5."""
    return f"{value:.{digits}f}".replace(".", ",")


def _size(n):
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{_num(n / factor)} {unit}"
    return f"{n} B"


def _duration(seconds):
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} ngày {hours} giờ"
    if hours:
        return f"{hours} giờ {minutes} phút"
    if minutes:
        return f"{minutes} phút"
    return f"{seconds} giây"


# --- disk, memory, temperature, uptime -----------------------------------------------------

DISK_FULL_REMEDY = ("Bộ nhớ lưu trữ đã đầy hoặc gần đầy: hộp không ghi được số thứ tự và hồ sơ mới. Giải phóng chỗ trống: "
                    "xoá bớt bản in thử (thư mục prints) và nhật ký cũ (thư mục logs), hoặc giảm log_keep_days; "
                    "hộp tự hoạt động lại ngay khi có chỗ trống. Nếu vẫn đầy, tải gói hỗ trợ và liên hệ kỹ thuật "
                    "trung tâm để thay thẻ nhớ lớn hơn.")
DISK_LOW_REMEDY = ("Dung lượng trống còn ít: xoá bớt bản in thử (thư mục prints) và nhật ký cũ (thư mục logs); "
                   "nếu trống tiếp tục giảm, liên hệ kỹ thuật trung tâm.")


def disk(usage, path="", warn_mb=1024, problem_mb=200):
    """``usage``: ``shutil.disk_usage(data_dir)`` (total, used, free in bytes). Less than
    ``problem_mb`` MB (or 5 %) free is a problem (the box is about to stop writing), less than
    ``warn_mb`` MB (or 15 %) a warning."""
    total, free = usage[0], usage[2]
    percent_free = 100.0 * free / total if total else 0.0
    value = f"Còn trống {_size(free)} trên {_size(total)} ({_num(percent_free, 0)}%)" + (f" – {path}" if path else "")
    if free < problem_mb * 1024**2 or percent_free < 5:
        return result("disk", "Bộ nhớ lưu trữ", PROBLEM, value, DISK_FULL_REMEDY)
    if free < warn_mb * 1024**2 or percent_free < 15:
        return result("disk", "Bộ nhớ lưu trữ", WARNING, value, DISK_LOW_REMEDY)
    return result("disk", "Bộ nhớ lưu trữ", OK, value)


def read_disk(path):
    return shutil.disk_usage(path)


DATA_PARTS = (("database", "cơ sở dữ liệu"), ("tasks", "hàng đợi tác vụ"), ("prints", "bản in thử"),
              ("logs", "tệp nhật ký"), ("other", "khác"))


def _tree_size(path):
    total = 0
    for item in Path(path).rglob("*"):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            continue
    return total


def read_data_sizes(data_dir, database_path=""):
    """Bytes the box keeps, by part: {"database", "tasks", "prints", "logs", "other"}. The database
    counts with its -wal and -shm files, wherever it is; the task store is ``edge-huey.db*``."""
    data_dir = Path(data_dir)
    sizes = dict.fromkeys((key for key, _ in DATA_PARTS), 0)
    database_files = set()
    if database_path and database_path != ":memory:":
        base = Path(database_path).resolve()
        database_files = {base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")}
        sizes["database"] = sum(p.stat().st_size for p in database_files if p.is_file())
    if not data_dir.is_dir():
        return sizes
    for item in data_dir.iterdir():
        try:
            if item.is_symlink() or item.resolve() in database_files:
                continue
            if item.is_dir():
                size = _tree_size(item)
                part = item.name if item.name in ("prints", "logs") else "other"
            else:
                size = item.stat().st_size
                part = "tasks" if item.name.startswith("edge-huey.db") else "other"
        except OSError:
            continue
        sizes[part] += size
    return sizes


def data_size(sizes, log_entries=None, keep_days=None):
    """``sizes``: what ``read_data_sizes`` measured; ``log_entries``: change-log entries kept on
    the box; ``keep_days``: the ``log_keep_days`` setting (0: kept for ever)."""
    parts = ", ".join(f"{label} {_size(sizes.get(key, 0))}" for key, label in DATA_PARTS)
    value = f"Tổng {_size(sum(sizes.values()))}: {parts}"
    if log_entries is not None:
        kept = "giữ mãi" if not keep_days else f"mục đã gửi trung tâm giữ {keep_days} ngày"
        value += f"; {log_entries} mục nhật ký thay đổi trên hộp ({kept})"
    return result("data_size", "Dữ liệu trên hộp", OK, value)


BLOB_WARN_SHARE = 0.9  # the console warns when the box's files pass this share of blob_box_limit_mb
BLOBS_REMEDY = ("Tăng giới hạn blob_box_limit_mb nếu thẻ nhớ còn chỗ (xem “Bộ nhớ lưu trữ”), hoặc thay thẻ nhớ lớn "
                "hơn; báo kỹ thuật trung tâm. Hộp không tự xoá tệp nào.")


def blobs(held, limit, waiting=0):
    """The box's files (papers, photos, scans) against ``blob_box_limit_mb``: a warning past 90 %, a
    problem at the limit, where the box stops fetching new files from the hub (it deletes none)."""
    share = held / limit if limit else 0.0
    value = f"Tệp đính kèm chiếm {_size(held)} / giới hạn {_size(limit)} ({_num(100 * share, 0)}%)"
    if waiting:
        value += f"; {waiting} tệp đang chờ tải về"
    if limit and held >= limit:
        return result("blobs", "Tệp đính kèm (giấy tờ, ảnh, bản quét)", PROBLEM,
                      value + ". Đã đạt giới hạn: hộp ngừng tải tệp mới từ trung tâm (cán bộ thấy “đang tải tệp”).",
                      BLOBS_REMEDY)
    if limit and share >= BLOB_WARN_SHARE:
        return result("blobs", "Tệp đính kèm (giấy tờ, ảnh, bản quét)", WARNING,
                      value + ". Sắp đạt giới hạn: khi đạt, hộp ngừng tải tệp mới.", BLOBS_REMEDY)
    return result("blobs", "Tệp đính kèm (giấy tờ, ảnh, bản quét)", OK, value)


def parse_meminfo(text):
    """``/proc/meminfo`` -> {name: bytes}."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name.strip()] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1)
    return values


def memory(meminfo_text):
    """``meminfo_text``: the content of /proc/meminfo (None when unreadable)."""
    info = parse_meminfo(meminfo_text or "")
    total = info.get("MemTotal")
    available = info.get("MemAvailable", info.get("MemFree"))
    if not total or available is None:
        return result("memory", "Bộ nhớ RAM", WARNING, "Không đọc được thông tin bộ nhớ",
                      "Không ảnh hưởng đến phục vụ; báo kỹ thuật trung tâm nếu hộp chạy chậm.")
    percent = 100.0 * available / total
    value = f"Còn trống {_size(available)} trên {_size(total)} ({_num(percent, 0)}%)"
    if percent < 5:
        return result("memory", "Bộ nhớ RAM", PROBLEM, value,
                      "Hộp gần hết bộ nhớ và có thể treo: khởi động lại các dịch vụ (nút bên dưới) "
                      "hoặc khởi động lại hộp.")
    if percent < 15:
        return result("memory", "Bộ nhớ RAM", WARNING, value,
                      "Bộ nhớ còn ít: nếu hộp chạy chậm, khởi động lại các dịch vụ.")
    return result("memory", "Bộ nhớ RAM", OK, value)


def read_text(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


def read_temperatures(pattern="/sys/class/thermal/thermal_zone*/temp"):
    """[(zone, degrees Celsius)] of every readable thermal zone."""
    readings = []
    for path in sorted(glob.glob(pattern)):
        raw = read_text(path)
        try:
            readings.append((Path(path).parent.name, int(raw.strip()) / 1000.0))
        except (AttributeError, ValueError):
            continue
    return readings


def temperature(readings):
    """``readings``: [(zone, °C)]; empty when the machine has no sensor."""
    if not readings:
        return result("temperature", "Nhiệt độ CPU", OK, "Không có cảm biến nhiệt độ")
    hottest = max(c for _, c in readings)
    value = f"{_num(hottest)} °C"
    if hottest >= 80:
        return result("temperature", "Nhiệt độ CPU", PROBLEM, value,
                      "Hộp quá nóng và sẽ tự chạy chậm lại: đặt hộp nơi thoáng, tránh nắng, kiểm tra quạt/tản nhiệt.")
    if hottest >= 70:
        return result("temperature", "Nhiệt độ CPU", WARNING, value,
                      "Hộp khá nóng: đặt hộp nơi thoáng, không che kín, tránh nắng chiếu trực tiếp.")
    return result("temperature", "Nhiệt độ CPU", OK, value)


def uptime(uptime_text):
    """``uptime_text``: the content of /proc/uptime (seconds since boot first)."""
    try:
        seconds = float((uptime_text or "").split()[0])
    except (IndexError, ValueError):
        return result("uptime", "Thời gian hoạt động", OK, "Không rõ")
    value = f"Đã chạy {_duration(seconds)} từ lần khởi động gần nhất"
    if seconds < 600:
        return result("uptime", "Thời gian hoạt động", WARNING, value,
                      "Hộp vừa khởi động lại. Nếu hộp hay tự khởi động lại, kiểm tra nguồn điện "
                      "(bộ nguồn đúng loại, ổ cắm chắc chắn, nên dùng bộ lưu điện).")
    return result("uptime", "Thời gian hoạt động", OK, value)


# --- clock, database -------------------------------------------------------------------------

def clock(now, hub_offset_ms=None, bound_seconds=300, tz="Asia/Ho_Chi_Minh"):
    """``now``: the box's wall clock (naive UTC); ``hub_offset_ms``: hub time minus box time
    seen at the last exchange (None: never exchanged)."""
    local = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    shown = f"{local:%H:%M:%S %d/%m/%Y}"
    if now < CLOCK_FLOOR:
        return result("clock", "Đồng hồ", PROBLEM, f"{shown} – đồng hồ sai",
                      "Đồng hồ sai, kiểm tra kết nối mạng/NTP: hộp tự chỉnh giờ khi vào được mạng. "
                      "Số thứ tự vẫn được cấp, nhưng giờ in trên phiếu có thể sai.")
    if hub_offset_ms is None:
        return result("clock", "Đồng hồ", OK, f"{shown}; chưa đối chiếu với trung tâm")
    offset = hub_offset_ms / 1000.0
    value = f"{shown}; lệch {_num(abs(offset))} giây so với trung tâm"
    if abs(offset) > bound_seconds:
        return result("clock", "Đồng hồ", PROBLEM, value,
                      "Đồng hồ lệch nhiều so với trung tâm: kiểm tra kết nối mạng/NTP (hộp cần vào được "
                      "máy chủ thời gian), rồi khởi động lại hộp.")
    if abs(offset) > 30:
        return result("clock", "Đồng hồ", WARNING, value,
                      "Đồng hồ hơi lệch: kiểm tra kết nối mạng/NTP; hộp sẽ tự chỉnh khi vào được mạng.")
    return result("clock", "Đồng hồ", OK, value)


def read_quick_check(database_path):
    """Rows of ``PRAGMA quick_check`` on the SQLite file (a fresh read-only connection)."""
    uri = Path(database_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        return [row[0] for row in conn.execute("PRAGMA quick_check")]
    finally:
        conn.close()


def database(rows=None, error=None):
    """``rows``: what ``PRAGMA quick_check`` answered; ``error``: why it could not run."""
    remedy = ("Dữ liệu có thể bị hỏng (thẻ nhớ lỗi hoặc mất điện đột ngột): tải gói hỗ trợ, "
              "không tắt nguồn hộp, và liên hệ kỹ thuật trung tâm ngay.")
    if error:
        return result("database", "Cơ sở dữ liệu", PROBLEM, f"Không kiểm tra được: {error}", remedy)
    if rows == ["ok"]:
        return result("database", "Cơ sở dữ liệu", OK, "Kiểm tra nhanh: không có lỗi")
    shown = "; ".join(str(r) for r in (rows or ["không có kết quả"])[:3])
    return result("database", "Cơ sở dữ liệu", PROBLEM, f"Kiểm tra nhanh phát hiện lỗi: {shown}", remedy)


# --- network, hub ----------------------------------------------------------------------------

def read_network():
    """{"interfaces": {name: [IPv4...]}, "gateway": (address, interface) or None} via netifaces."""
    import netifaces

    interfaces = {}
    for name in netifaces.interfaces():
        try:
            addresses = netifaces.ifaddresses(name).get(netifaces.AF_INET, [])
        except ValueError:
            continue
        interfaces[name] = [a["addr"] for a in addresses if a.get("addr")]
    gateway = netifaces.gateways().get("default", {}).get(netifaces.AF_INET)
    return {"interfaces": interfaces, "gateway": tuple(gateway[:2]) if gateway else None}


def network(state):
    """``state``: what ``read_network`` returns."""
    lan = {name: addrs for name, addrs in state.get("interfaces", {}).items()
           if addrs and not name.startswith("lo") and not all(a.startswith("127.") for a in addrs)}
    shown = ", ".join(f"{name} {' '.join(addrs)}" for name, addrs in sorted(lan.items())) or "không có địa chỉ IPv4"
    gateway = state.get("gateway")
    if not lan:
        return result("network", "Mạng", PROBLEM, f"Không có kết nối mạng ({shown})", NETWORK_REMEDY)
    if not gateway:
        return result("network", "Mạng", PROBLEM, f"{shown}; không có cổng mặc định (default gateway)",
                      NETWORK_REMEDY)
    return result("network", "Mạng", OK, f"{shown}; cổng mặc định {gateway[0]} ({gateway[1]})")


def probe_hub(hub_url, timeout=3.0, session=None):
    """GET {hub_url}/api/v1/health: {"ok", "status", "latency_ms", "error"}."""
    import requests

    started = time.monotonic()
    try:
        response = (session or requests).get(hub_url.rstrip("/") + "/api/v1/health", timeout=timeout)
    except requests.RequestException as exc:
        return {"ok": False, "status": None, "latency_ms": None, "error": short_error(exc)}
    latency = round((time.monotonic() - started) * 1000)
    return {"ok": response.status_code == 200, "status": response.status_code, "latency_ms": latency, "error": ""}


ERROR_MEANINGS = (
    ("CERTIFICATE_VERIFY_FAILED", TLS_MISMATCH),
    ("Connection refused", "bị từ chối kết nối"),
    ("timed out", "quá thời gian chờ"),
    ("Name or service not known", "không tìm thấy tên máy"),
    ("Temporary failure in name resolution", "không phân giải được tên (DNS)"),
    ("Network is unreachable", "không có đường mạng"),
    ("No route to host", "không có đường đến máy"),
    ("USB device not found", "không thấy thiết bị USB"),
    ("Permission denied", "không có quyền mở thiết bị"),
    ("No such file or directory", "không có thiết bị/tệp này"),
)


def short_error(exc):
    """A short Vietnamese reading of an exception (or text) about a device or a connection."""
    text = " ".join(str(exc).split())
    for marker, meaning in ERROR_MEANINGS:
        if marker in text:
            return meaning
    return text[:160] or type(exc).__name__


def redact_url(value):
    """A URL without its user and password (for showing and for the support bundle)."""
    try:
        parts = urlsplit(value)
        if not (parts.username or parts.password):
            return value
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return value
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def url_password(value):
    try:
        return urlsplit(value).password or ""
    except ValueError:
        return ""


def hub(hub_url, probe):
    """``probe``: what ``probe_hub`` returned (None when there is no hub_url)."""
    hub_url = redact_url(hub_url)
    if not hub_url:
        return result("hub", "Kết nối trung tâm", WARNING, "Chưa cấu hình trung tâm (hub_url)",
                      "Hộp đang chạy riêng, dữ liệu được lưu trên hộp. Cấp phát hộp bằng gói cấp phát "
                      "để nối với trung tâm.")
    if probe.get("status") is None:
        remedy = TLS_REMEDY if probe.get("error") == TLS_MISMATCH else HUB_UNREACHABLE_REMEDY
        return result("hub", "Kết nối trung tâm", PROBLEM,
                      f"Không kết nối được {hub_url} ({probe.get('error') or 'không trả lời'})", remedy)
    if not probe.get("ok"):
        return result("hub", "Kết nối trung tâm", PROBLEM, f"Trung tâm trả lời lỗi HTTP {probe['status']} ({hub_url})",
                      "Trung tâm đang gặp sự cố: báo kỹ thuật trung tâm. Hộp vẫn hoạt động và sẽ tự gửi dữ liệu sau.")
    latency = probe.get("latency_ms") or 0
    value = f"{hub_url} trả lời sau {latency} ms"
    if latency > 2000:
        return result("hub", "Kết nối trung tâm", WARNING, value,
                      "Mạng chậm: kiểm tra modem/đường truyền; đồng bộ vẫn chạy nhưng lâu hơn.")
    return result("hub", "Kết nối trung tâm", OK, value)


# --- printer, print jobs, keypad, device service ---------------------------------------------

def probe_printer(open_printer_fn, timeout=3.0):
    """Open the printer and ask its state, within ``timeout`` seconds.

    Returns {"opened", "online", "paper", "error"}: ``online`` / ``paper`` are None when the
    printer does not answer status queries (many USB and network printers, the dummy). In
    python-escpos an unanswered paper query may read as 0 (no paper) or 2 depending on the
    version, so paper 0 is reported as "no paper or no answer".
    """
    state = {"opened": False, "online": None, "paper": None, "error": ""}
    printer = []

    def run():
        try:
            printer.append(open_printer_fn())
            device = printer[0]
            if getattr(device, "_device", None) is False:  # escpos opens lazily: open now
                _reachable(device, timeout)
                device.open()
            state["opened"] = True
        except Exception as exc:  # any failure to open is the answer
            state["error"] = short_error(exc)
            return
        for name, query in (("online", "is_online"), ("paper", "paper_status")):
            try:
                state[name] = getattr(device, query)()
            except Exception:  # no status support or no answer: unknown, not broken
                state[name] = None

    thread = threading.Thread(target=run, name="printer-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    answer = dict(state)  # a thread still waiting may write into ``state`` later
    if thread.is_alive() and not answer["opened"]:
        answer["error"] = answer["error"] or f"không trả lời sau {timeout:g} giây"
    # Opened but silent when asked its state: online/paper stay unknown (None), not broken.
    if printer and hasattr(printer[0], "close"):
        try:
            printer[0].close()
        except Exception:
            log.debug("closing the probed printer", exc_info=True)
    return answer


def _reachable(device, timeout):
    """A network printer's port answers (checked with our own socket: python-escpos leaks
    its socket when the connection fails)."""
    from escpos.printer import Network

    if isinstance(device, Network):
        socket.create_connection((device.host, device.port), timeout=timeout).close()


def printer(spec, state):
    """``spec``: the printer setting; ``state``: {"opened", "online", "paper", "error"} from
    ``probe_printer`` or the device service (None: the service did not answer)."""
    kind = (spec or "").partition(":")[0].lower()
    title = "Máy in phiếu số thứ tự"
    if state is None:
        return result("printer", title, PROBLEM, f"Không rõ trạng thái máy in ({spec})",
                      "Dịch vụ thiết bị không trả lời: khởi động lại dịch vụ thiết bị, rồi bấm In thử.")
    if not state.get("opened"):
        detail = f" ({short_error(state['error'].removeprefix('Lỗi máy in: '))})" if state.get("error") else ""
        return result("printer", title, PROBLEM, f"Không mở được máy in {spec}{detail}", PRINTER_DISCONNECTED)
    if kind in ("dummy", "preview"):
        where = "không in ra giấy" if kind == "dummy" else "lưu phiếu thành tệp trong thư mục prints"
        return result("printer", title, WARNING, f"Máy in mô phỏng “{kind}”: {where}",
                      "Cấu hình máy in thật (printer = usb:VID:PID hoặc network:ĐỊA_CHỈ) khi lắp đặt tại xã.")
    if state.get("online") is False:
        return result("printer", title, PROBLEM, f"Máy in {spec} báo không sẵn sàng",
                      "Đóng nắp máy in, kiểm tra giấy và đèn báo lỗi, tắt/bật lại máy in rồi bấm In thử.")
    if state.get("paper") == 0:
        return result("printer", title, WARNING, f"Máy in {spec} báo hết giấy (hoặc không trả lời câu hỏi về giấy)",
                      "Kiểm tra cuộn giấy; nếu vẫn còn giấy, bấm In thử: một số máy in không báo trạng thái giấy.")
    if state.get("paper") == 1:
        return result("printer", title, WARNING, f"Máy in {spec}: giấy sắp hết",
                      "Chuẩn bị cuộn giấy mới và thay khi hết.")
    if state.get("online") is None:
        return result("printer", title, OK, f"Đã kết nối {spec} (máy in không báo trạng thái; bấm In thử để chắc chắn)")
    return result("printer", title, OK, f"Đã kết nối {spec}, sẵn sàng")


def print_jobs(failed, pending, oldest_pending_age_s=0):
    """Counts of print jobs: ``failed`` used up their attempts, ``pending`` wait to print."""
    title = "Lệnh in phiếu"
    value = f"{failed} phiếu in lỗi, {pending} phiếu đang chờ in"
    if pending and oldest_pending_age_s > 120:
        value += f" (chờ lâu nhất {_duration(oldest_pending_age_s)})"
        return result("print_jobs", title, PROBLEM if oldest_pending_age_s > 600 else WARNING, value,
                      "Phiếu chờ in quá lâu: kiểm tra máy in, và tiến trình in (dịch vụ thiết bị hoặc worker) "
                      "đang chạy – khởi động lại nếu cần.")
    if failed:
        return result("print_jobs", title, WARNING, value,
                      "Sửa máy in (bấm In thử), rồi in lại các phiếu lỗi nếu người dân còn cần "
                      "(danh sách phiếu in lỗi ở dưới).")
    return result("print_jobs", title, OK, value)


def device_service(device_url, status, error=""):
    """``status``: the device service's /status answer (None when it did not answer)."""
    title = "Dịch vụ thiết bị"
    if not device_url:
        return result("device_service", title, OK, "Không dùng: máy in do tiến trình worker điều khiển")
    if status is None:
        seen = f"Không trả lời tại {device_url}" + (f" ({error})" if error else "")
        return result("device_service", title, PROBLEM, seen,
                      "Máy in và bàn phím đánh giá đang không hoạt động: khởi động lại dịch vụ thiết bị "
                      "(nút bên dưới) hoặc khởi động lại hộp.")
    keypad = status.get("keypad") or {}
    if keypad.get("error"):
        return result("device_service", title, WARNING, f"Đang chạy; bàn phím đánh giá lỗi: {keypad['error']}",
                      "Kiểm tra dây nối bàn phím vào chân GPIO và cấu hình keypad_pins.")
    ready = ", bàn phím đánh giá sẵn sàng" if keypad.get("active") else ""
    return result("device_service", title, OK, f"Đang chạy{ready}")


# --- sync, logs --------------------------------------------------------------------------------

def _parse_time(text):
    if not text:
        return None
    return datetime.fromisoformat(text.rstrip("Z"))


def sync(state, now, hub_url=None):
    """``state``: ``sync.box.status()``; ``now``: naive UTC; ``hub_url``: the configured hub
    (default: the one the node was set up with)."""
    title = "Đồng bộ với trung tâm"
    if not (hub_url or state.get("hub_url")):
        return result("sync", title, OK, f"Chưa nối trung tâm; {state.get('pending', 0)} mục lưu trên hộp")
    pending, age = state.get("pending", 0), state.get("oldest_pending_age_s", 0)
    success = _parse_time(state.get("last_success_at"))
    parts = [f"{pending} mục chờ gửi" + (f" (lâu nhất {_duration(age)})" if pending else "")]
    parts.append(f"lần thành công gần nhất: {_duration((now - success).total_seconds())} trước" if success
                 else "chưa đồng bộ thành công lần nào")
    if state.get("last_error"):
        parts.append(f"lỗi gần nhất: {state['last_error']}")
    value = "; ".join(parts)
    remedy = ("Dữ liệu chờ gửi không bị mất, hộp sẽ tự gửi khi có mạng. Kiểm tra mục Kết nối trung tâm; "
              "nếu lỗi kéo dài, tải gói hỗ trợ và gửi cho kỹ thuật trung tâm.")
    if pending and age > 24 * 3600:
        return result("sync", title, PROBLEM, value, remedy)
    if (pending and age > 15 * 60) or (state.get("last_error") and state.get("failures", 0) >= 3):
        return result("sync", title, WARNING, value, remedy)
    return result("sync", title, OK, value)


def recent_logs(log_dir, lines=80, max_files=8, max_bytes=64 * 1024):
    """The last ``lines`` lines of the newest ``*.log`` files in ``log_dir``."""
    files = sorted(Path(log_dir).glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)[:max_files]
    out = []
    for path in files:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(size - max_bytes, 0))
            text = handle.read().decode("utf-8", errors="replace")
        modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        out.append({"name": path.name, "size": size, "modified": modified,
                    "tail": "\n".join(text.splitlines()[-lines:])})
    return out


def logs(entries):
    """``entries``: what ``recent_logs`` returned."""
    title = "Nhật ký"
    if not entries:
        return result("logs", title, OK, "Chưa có tệp nhật ký")
    errors = sum(1 for e in entries for line in e["tail"].splitlines() if " ERROR " in line or " CRITICAL " in line)
    value = f"{len(entries)} tệp; {errors} dòng lỗi trong các dòng gần đây"
    if errors:
        return result("logs", title, WARNING, value,
                      "Xem các dòng lỗi ở phần Nhật ký bên dưới; nếu không rõ nguyên nhân, tải gói hỗ trợ "
                      "và gửi cho kỹ thuật trung tâm.")
    return result("logs", title, OK, value)


class _ZonedFormatter(logging.Formatter):
    """Log times in the office's time zone (a box's system zone is often UTC)."""

    def __init__(self, tz):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tz = ZoneInfo(tz)

    def formatTime(self, record, datefmt=None):  # noqa: N802
        moment = datetime.fromtimestamp(record.created, self.tz)
        return f"{moment:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d}"


def attach_log_file(data_dir, process, tz="Asia/Ho_Chi_Minh", level=None, max_mb=1.0, count=3):
    """Also write this process's log to ``<data_dir>/logs/<process>.log`` (rotated at ``max_mb``
    MB, ``count`` older files kept: settings ``log_file_mb`` / ``log_file_count``), with times
    in the office's time zone ``tz``."""
    directory = Path(data_dir) / "logs"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = rotating_file_handler(directory / f"{process}.log", max_mb, count)
    except OSError:
        log.warning("cannot write logs under %s", directory, exc_info=True)
        return None
    handler.setFormatter(_ZonedFormatter(tz or "Asia/Ho_Chi_Minh"))
    if level:
        handler.setLevel(level)
    root = logging.getLogger()
    for existing in list(root.handlers):  # one file handler per process and file
        if getattr(existing, "baseFilename", None) == handler.baseFilename:
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    return handler

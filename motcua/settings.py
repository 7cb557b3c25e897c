"""Every setting of the box and the hub, declared once with its default and its meaning.

A value comes from, lowest to highest: the default here, the config file (TOML; top-level
keys or an ``[edge]`` / ``[hub]`` table), the environment (``MOTCUA_<NAME>``), the command line.
"""
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from office.errors import MotcuaError


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    scope: tuple = ("edge", "hub")
    aliases: tuple = ()  # further command-line spellings, e.g. ("--commune",)


SETTINGS = (
    Setting("data_dir", "var", "Directory for the database, the task queue, keys, print previews and logs."),
    Setting("database", "", "Database: a SQLite file path or postgresql://user@host/db (hub). Default: <data_dir>/<edge|hub>.db."),
    Setting("host", "127.0.0.1", "Address the web server listens on (0.0.0.0 to serve the office LAN)."),
    Setting("port", 8001, "Port of the web server (the hub's default is 8000)."),
    Setting("web_workers", 1, "Web server worker processes."),
    Setting("web_threads", 8, "Threads per web worker (each lobby display or console holds one while it asks)."),
    Setting("cpu_pinning", True, "Run each web worker process on a core of its own (its threads hand Python's lock over within that core: more requests a second on several cores) and, on the box, the worker on the other cores, when there are no more web workers than cores; false: the system moves them between cores."),
    Setting("tls_cert", "", "Certificate file (PEM, with its chain) the web server serves HTTPS with; empty: plain HTTP (e.g. behind a TLS reverse proxy).", ("hub",)),
    Setting("tls_key", "", "Private key file (PEM) of tls_cert.", ("hub",)),
    Setting("tls_pin_cert", "", "Certificate (or CA) file (PEM) put into provisioning bundles for boxes to pin; default tls_cert. Set it to the proxy's certificate or CA when a reverse proxy serves HTTPS.", ("hub",)),
    Setting("secret_key", "", "Key signing login cookies. Default: a random key kept in <data_dir>/secret_key."),
    Setting("timezone", "Asia/Ho_Chi_Minh", "Time zone of the office: ticket numbers restart at its midnight."),
    Setting("trusted_proxies", 0, "Reverse proxies in front of the web server: the client's address is the X-Forwarded-For entry this many hops from the right (0: the connection's own address)."),
    Setting("blob_store", "", "Where file bytes (uploaded papers, photos, scans) are kept: empty = <data_dir>/blobs on this machine; file:/path for another directory; s3://bucket/prefix?endpoint=http://host:9000 for an S3-compatible object store (hub; needs boto3 and the AWS_* credentials; partial uploads stay under <data_dir>/blobs)."),
    Setting("upload_max_mb", 10, "Largest file (MB) a citizen may upload for one paper of an online dossier (photos JPG/PNG, PDF).", ("hub",)),
    Setting("dossier_upload_max_mb", 40, "Largest total (MB) of the files of one online dossier.", ("hub",)),
    Setting("blob_box_limit_mb", 2048, "Megabytes of files (papers, photos, scans) this box keeps at most: the console warns past 90%; at the limit the box stops fetching new files from the hub (it never deletes one).", ("edge",)),
    Setting("scan_max_mb", 15, "Megabytes a scan or photo attached at the dossier desk (số hóa) may have at most.", ("edge",)),
    Setting("log_level", "INFO", "Logging level: DEBUG, INFO, WARNING or ERROR."),
    Setting("future_bound_seconds", 300, "Entries stamped further ahead of the hub's clock are held, not applied.", ("hub",)),
    Setting("request_window_seconds", 300, "A signed box request (push, pull, snapshot, enrol) stamped further from the hub's clock is refused; its nonce is remembered twice as long.", ("hub",)),
    Setting("operator_password", "", "Password of the first operator account 'admin', made when the hub has no account yet (must be changed at first sign-in); empty: <data_dir>/operator_password is made.", ("hub",)),
    Setting("session_idle_minutes", 30, "A hub sign-in ends after this many minutes without a request.", ("hub",)),
    Setting("redis_url", "", "Redis for the hub's task queue when the hub scales out (redis://127.0.0.1:6379/0); empty: SQLite.", ("hub",)),
    Setting("redis_queue", "motcua-hub", "Name of the hub's task queue in Redis (hubs sharing one Redis need different names).", ("hub",)),
    Setting("box_silence_minutes", 60, "Alert when an active box has not been heard from for this long.", ("hub",)),
    Setting("stats_export_background_rows", 5000, "Statistics Excel files longer than this many rows are made by the worker in the background, with a progress bar; shorter ones download at once.", ("hub",)),
    Setting("reminder_catchup_minutes", 30, "A reminder slot (e.g. 08:00) still goes out this many minutes late when the worker was down at its time.", ("hub",)),
    Setting("reminder_zalo_template", "", "Zalo ZNS template id for reminders to handlers and leaders (fields ten, sap_den_han, qua_han, ma_ho_so).", ("hub",)),
    Setting("push_concurrency", 4, "Box pushes the hub takes in at once, across all its web workers (PostgreSQL: advisory locks; each worker also keeps 2 threads for people); the others get 503 with Retry-After and send again. 0: no limit.", ("hub",)),
    Setting("push_retry_seconds", 10, "A push refused because the hub is full is told to come back after this many seconds to twice as many.", ("hub",)),
    Setting("sync_batch_size", 2000, "Change-log entries per pushed or pulled batch.", ("edge", "hub")),
    Setting("sync_timeout", 20.0, "Seconds an exchange with the hub may take.", ("edge",)),
    Setting("worker_period_seconds", 60, "Seconds between two starts of the worker's periodic jobs (sync, print sweep, notices, reminders); the every-5-minutes fleet watch runs at every start when this is under 60 (tests).", ("edge", "hub")),
    Setting("enrol_token_hours", 72, "How long a provisioning bundle's enrolment token stays valid.", ("hub",)),
    Setting("public_hub_urls", "", "Hub URLs written into provisioning bundles, comma-separated; default this hub's own URL.", ("hub",)),
    Setting("technician_password_hash", "", "Hash of the technician console's password (set from the provisioning bundle); empty: console locked.", ("edge",)),
    Setting("console_session_minutes", 15, "Idle minutes after which the technician console signs out.", ("edge",)),
    Setting("restart_commands", "", "Restart buttons of the console, as label=command pairs separated by ';' (e.g. web=systemctl restart motcua-edge-web).", ("edge",)),
    Setting("device_url", "", "Local URL of the device service owning the printer and GPIO (e.g. http://127.0.0.1:8009); empty: the worker prints itself.", ("edge",)),
    Setting("device_port", 8009, "Port of the device service on 127.0.0.1.", ("edge",)),
    Setting("usb_mount_dirs", "/media,/run/media,/mnt", "Where the provisioning watcher looks for a bundle on a USB stick.", ("edge",)),
    Setting("commune_code", "", "GSO code of the commune this box serves (e.g. 05518).", ("edge",), ("--commune",)),
    Setting("hub_url", "", "URL of the hub this box replicates to; when empty, the address stored in the box by `edge init --hub-url` or enrolment (the sync, `/api/v1/sync`, `/sync` and the console show the one in use).", ("edge",), ("--hub",)),
    Setting("office_title", "Trung tâm Phục vụ hành chính công", "Name of the commune's one-stop office on screens, forms, slips and tracking pages (Decree 118/2025: the commune's Trung tâm Phục vụ hành chính công; some provinces keep the name Bộ phận Một cửa).", ("edge", "hub")),
    Setting("public_url", "", "Base URL of this box on the office LAN (the console's QR code); default this box's own URL.", ("edge",)),
    Setting("public_tracking_url", "", "Base URL printed on tickets and appointment slips (text and QR code) for tracking from a phone: an address reachable from the internet, where `/t/<code>` and `/tracking` answer; default the hub's URL (`hub_url` or the one stored in the box), else this box's own URL.", ("edge",)),
    Setting("priority_ratio", 2, "Priority tickets called for every normal ticket when both wait.", ("edge",)),
    Setting("priority_categories", "elderly=Người cao tuổi;disabled=Người khuyết tật;pregnant=Phụ nữ mang thai;child=Người đi cùng trẻ nhỏ",
            "Priority categories offered at the kiosk, as code=label pairs separated by ';'.", ("edge",)),
    Setting("default_service_minutes", 5.0, "Assumed minutes per citizen until the service has history.", ("edge",)),
    Setting("estimate_window", 20, "How many recent services the waiting-time estimate averages.", ("edge",)),
    Setting("office_hours", "07:00-11:30,13:30-17:00", "Office hours of the one-stop desk on working days (Vietnam's holidays and the hub's days off excepted), as periods HH:MM-HH:MM separated by ','; the kiosk issues numbers only then.", ("edge",)),
    Setting("issue_early_minutes", 15, "The kiosk hands out numbers this many minutes before each period of office_hours opens (15: from 6:45 for 7:00).", ("edge",)),
    Setting("issue_any_time", False, "The kiosk issues numbers at any hour of any day, ignoring the office calendar (a desk open round the clock; the test suite).", ("edge",)),
    Setting("kiosk_reset_seconds", 20, "Seconds of no touch after which the kiosk returns to its start screen.", ("edge",)),
    Setting("rating_window_seconds", 300, "How long after 'finish' a rating is still taken for that ticket.", ("edge",)),
    Setting("rating_timeout_seconds", 45, "Seconds the rating tablet keeps its question (or reasons) on screen unanswered before it goes back to its welcome screen; 30 to 60 suits a counter.", ("edge",)),
    Setting("counter_undo_seconds", 5, "Seconds the counter console lets an officer undo marking a citizen absent (also by calling the next number) before it is recorded.", ("edge",)),
    Setting("voice_reading", "north", "How numbers are read aloud: north (linh, tư) or south (lẻ, bốn).", ("edge",)),
    Setting("lobby_call_repeat", 2, "How many times the lobby says each call (after one chime), for whoever missed the first: 1 to 3.", ("edge",)),
    Setting("clips_dir", "", "Directory of recorded voice clips replacing the shipped ones (same file names). Default: <data_dir>/clips.", ("edge",)),
    Setting("printer", "dummy", "Ticket printer: dummy, preview (ESC/POS bytes + PNG into <data_dir>/prints), usb:VID:PID, network:HOST[:PORT], serial:DEVICE, file:PATH.", ("edge",)),
    Setting("printer_width", 576, "Printable width in dots (576 for 80 mm paper, 384 for 58 mm).", ("edge",)),
    Setting("printer_timeout", 8.0, "Seconds a print may take before it counts as failed.", ("edge",)),
    Setting("print_max_attempts", 6, "Attempts before a print job is marked failed (it can be reprinted).", ("edge",)),
    Setting("disk_warn_mb", 1024, "The console warns when the data directory's disk has less than this many MB free (or under 15 %).", ("edge",)),
    Setting("disk_problem_mb", 200, "Below this many MB free (or 5 %) the console shows a problem: the box is about to stop writing tickets.", ("edge",)),
    Setting("log_keep_days", 90, "Change-log entries the hub has confirmed are deleted from the box after this many days (the chain stays verifiable from its newest deleted entry); 0: kept for ever.", ("edge",)),
    Setting("log_file_mb", 1.0, "Size in MB at which a log file under <data_dir>/logs is rotated.", ("edge",)),
    Setting("log_file_count", 3, "Rotated log files kept per process, besides the current one.", ("edge",)),
    Setting("print_previews_keep", 200, "Newest print previews (printer preview, test prints) kept under <data_dir>/prints; older ones are deleted.", ("edge",)),
    Setting("update_prefix", "", "Directory of the box's software releases (releases/<version>/venv) and of the `current` link its services run from; default <data_dir>/software.", ("edge",)),
    Setting("update_window", "12:00-13:00", "Quiet time in which the box switches to a new release, office time: HH:MM-HH:MM, several separated by commas (17:30-06:30 crosses midnight), or always.", ("edge",)),
    Setting("update_health_minutes", 10.0, "Minutes a new release has to come up healthy (web, worker, database) after the switch; otherwise the box switches back by itself.", ("edge",)),
    Setting("update_restart_command", "systemctl restart motcua-edge-web motcua-edge-worker motcua-devices", "Command restarting the box's services after a switch of release (and after switching back).", ("edge",)),
    Setting("update_shared_packages", True, "A new release's environment also sees the running one's packages, so a release carries only the wheels that changed.", ("edge",)),
    Setting("keypad_pins", "", "GPIO pins of the rating keypad, best rating first (e.g. 17,27,22); empty: no keypad.", ("edge",)),
    Setting("keypad_counter", 1, "Counter number whose citizens the keypad rates.", ("edge",)),
    Setting("notify_turn_ahead", 3, "Text a citizen whose ticket has this many tickets ahead of it after a call (needs a phone); 0: off.", ("edge",)),
    Setting("booking_days_ahead", 6, "Citizens book a time at the office from today up to this many working days ahead (the calendar's holidays and the commune's closed days are skipped).", ("hub",)),
    Setting("booking_per_phone", 3, "Open bookings (today or later, not cancelled or used) one phone number may hold at once.", ("hub",)),
    Setting("booking_late_minutes", 15, "The kiosk still honours a booking this many minutes after its slot started; later, the citizen takes an ordinary number.", ("edge",)),
    Setting("citizen_code_channel", "sms", "Channel of the one-time codes citizens sign in with: sms; log only for a demonstration (the code then shows in the hub's log).", ("hub",)),
    Setting("citizen_code_minutes", 5, "Minutes a one-time code sent to a citizen's phone stays valid (5 wrong tries end it sooner).", ("hub",)),
    Setting("citizen_channels", "log", "Channels a citizen notice goes out on, comma-separated, in order: sms, zalo, email, log.", ("hub",)),
    Setting("notify_max_attempts", 8, "Attempts at sending a message before it is marked failed (an operator can send it again).", ("hub",)),
    Setting("notify_timeout", 15.0, "Seconds a gateway may take to answer one message.", ("hub",)),
    Setting("notify_lease_seconds", 600, "A message claimed for sending longer ago than this (the worker died mid-send) is sent again, with the same request id.", ("hub",)),
    Setting("sms_url", "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/", "SMS brandname gateway (eSMS.vn JSON API).", ("hub",)),
    Setting("sms_api_key", "", "ApiKey of the SMS brandname account.", ("hub",)),
    Setting("sms_secret_key", "", "SecretKey of the SMS brandname account.", ("hub",)),
    Setting("sms_brandname", "", "Registered brandname shown as the SMS sender.", ("hub",)),
    Setting("sms_ascii", True, "Send SMS without Vietnamese diacritics (an unaccented SMS costs less and fits 160 characters).", ("hub",)),
    Setting("sms_inbound_token", "", "Shared secret the SMS gateway sends with incoming texts (?token= or X-Motcua-Token); empty: incoming texts refused.", ("hub",)),
    Setting("zalo_url", "https://business.openapi.zalo.me/message/template", "Zalo ZNS endpoint sending a template message.", ("hub",)),
    Setting("zalo_access_token", "", "Access token of the Zalo Official Account's app.", ("hub",)),
    Setting("zalo_templates", "", "ZNS template id per notice kind, e.g. dossier_received=123,dossier_ready=456.", ("hub",)),
    Setting("smtp_host", "", "Mail server for e-mail notifications; empty: no e-mail.", ("hub",)),
    Setting("smtp_port", 587, "Port of the mail server.", ("hub",)),
    Setting("smtp_user", "", "Login at the mail server; empty: no login.", ("hub",)),
    Setting("smtp_password", "", "Password at the mail server.", ("hub",)),
    Setting("smtp_sender", "", "From address of e-mail notifications.", ("hub",)),
    Setting("smtp_starttls", True, "Switch the mail connection to TLS (STARTTLS) before logging in.", ("hub",)),
)

BY_NAME = {s.name: s for s in SETTINGS}
BOX_CONFIG = "motcua.toml"  # a box's own config in its data dir (motcua edge provision writes it)
SCOPE_DEFAULTS = {"hub": {"port": 8000}}


def settings_for(scope):
    return [s for s in SETTINGS if scope in s.scope]


def load_settings(scope, config_file=None, overrides=None, environ=None):
    """Resolve every setting of ``scope`` into a plain dict.

    A box also reads ``<data_dir>/motcua.toml`` (written by ``motcua edge provision``), below
    every other source: the config file, the environment and the options still win.
    """
    environ = os.environ if environ is None else environ
    values = {s.name: SCOPE_DEFAULTS.get(scope, {}).get(s.name, s.default) for s in settings_for(scope)}
    given = {}
    config_file = config_file or environ.get("MOTCUA_CONFIG")
    if config_file:
        given.update(_from_file(Path(config_file), scope, values))
    for name in values:
        raw = environ.get(f"MOTCUA_{name.upper()}")
        if raw is not None:
            given[name] = _coerce(name, raw)
    for name, value in (overrides or {}).items():
        if value is not None:
            given[name] = _coerce(name, value)
    if scope == "edge":
        box_file = Path(given.get("data_dir", values["data_dir"])).resolve() / BOX_CONFIG
        if box_file.is_file() and not (config_file and Path(config_file).resolve() == box_file):
            values.update({k: v for k, v in _from_file(box_file, scope, values).items() if k != "data_dir"})
    values.update(given)
    return finish(values, scope)


def finish(values, scope):
    data_dir = Path(values["data_dir"]).resolve()
    values["data_dir"] = str(data_dir)
    if not values["database"]:
        values["database"] = str(data_dir / f"{scope}.db")
    if scope == "edge" and not values["clips_dir"]:
        values["clips_dir"] = str(data_dir / "clips")
    return values


def _from_file(path, scope, known):
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MotcuaError(f"Không đọc được tệp cấu hình {path}: {exc}") from exc
    merged = {k: v for k, v in data.items() if not isinstance(v, dict)}
    merged.update(data.get(scope, {}))
    unknown = sorted(set(merged) - set(BY_NAME))
    if unknown:
        raise MotcuaError(f"Tệp cấu hình {path} có mục không biết: {', '.join(unknown)}")
    return {k: _coerce(k, v) for k, v in merged.items() if k in known}


def _coerce(name, value):
    kind = type(BY_NAME[name].default)
    if isinstance(value, kind):
        return value
    try:
        if kind is bool:
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise MotcuaError(f"Giá trị “{value}” không hợp lệ cho {name}.") from exc


def parse_pairs(text):
    """``a=Một;b=Hai`` -> ``{"a": "Một", "b": "Hai"}``."""
    pairs = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _, label = part.partition("=")
        pairs[key.strip()] = label.strip() or key.strip()
    return pairs

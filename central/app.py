"""The hub's app factory."""
from dataclasses import dataclass

from flask import Flask, jsonify
from jinja2 import ChoiceLoader, PackageLoader

from motcua import tracking
from motcua.settings import load_settings
from motcua.web import configure_logging, install_assets, install_error_handlers, local_time, secret_key
from office.clock import local_clock
from office.db import HUB_SQLITE, bind, open_database
from office.models import MODELS
from office.stats_rollup import install as install_queue_rollup
from office.reports import ensure_default_categories
from office.synonyms import ensure_default_synonyms
from provisioning.identity import ensure_hub_identity

from . import agency, blob_api, enrol, inbound_sms, notifications, operator, releases_api, sync_api
from . import accounts_admin, accounts_signin, audit_views, catalog_admin, reminder_views, stats_views
from . import booking_admin, booking_views, citizen_online, citizen_views, form_files, open311, open311_clients, \
    report_views, ticket_track, tus_uploads  # noqa: F401
from .accounts import ensure_first_operator
from .accounts_models import ACCOUNT_MODELS
from .bookings import BOOKING_MODELS
from .citizens import CITIZEN_MODELS
from .online_drafts import ONLINE_MODELS
from .phone_codes import PhoneCode
from .open311_clients import OPEN311_MODELS
from .audit import make_append_only
from .export_jobs import EXPORT_MODELS
from .auth import install_auth, operator_password
from .models import HUB_ONLY_MODELS
from .releases_models import RELEASE_MODELS
from .tasks import create_hub_huey

HUB_MODELS = (MODELS + HUB_ONLY_MODELS + ACCOUNT_MODELS + RELEASE_MODELS + CITIZEN_MODELS + EXPORT_MODELS
              + ONLINE_MODELS + BOOKING_MODELS + (PhoneCode,) + OPEN311_MODELS)


@dataclass
class Hub:
    settings: dict
    key: object
    tasks: dict = None


def open_hub_database(settings):
    db = bind(open_database(settings["database"], **HUB_SQLITE), HUB_MODELS)
    make_append_only(db)
    install_queue_rollup(db)
    return db


def create_app(settings=None):
    settings = settings or load_settings("hub")
    configure_logging(settings["log_level"])
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key(settings), MAX_CONTENT_LENGTH=64 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("motcua")])
    app.jinja_env.globals["office_title"] = app.config["OFFICE_TITLE"] = settings["office_title"]
    open_hub_database(settings)
    _, tasks = create_hub_huey(settings)
    app.extensions["hub"] = Hub(settings, ensure_hub_identity(settings["data_dir"]), tasks)
    ensure_default_synonyms()
    ensure_default_categories()
    ensure_first_operator(lambda: operator_password(settings))
    install_error_handlers(app)
    install_auth(app, settings["session_idle_minutes"])
    install_assets(app)
    app.register_blueprint(sync_api.bp)
    app.register_blueprint(blob_api.bp)
    app.register_blueprint(releases_api.bp)
    app.register_blueprint(operator.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(ticket_track.bp)
    app.extensions["to_local"] = local_clock(settings["timezone"])
    app.add_template_filter(local_time)  # times on pages in the office's time zone
    app.register_blueprint(enrol.bp)
    app.register_blueprint(catalog_admin.bp)
    app.register_blueprint(form_files.bp)
    app.register_blueprint(agency.bp)
    app.register_blueprint(reminder_views.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(inbound_sms.bp)
    app.register_blueprint(stats_views.bp)
    app.register_blueprint(accounts_signin.bp)
    app.register_blueprint(accounts_admin.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(citizen_views.bp)  # with the booking pages of booking_views
    app.register_blueprint(booking_admin.bp)
    app.register_blueprint(citizen_online.bp)
    app.register_blueprint(tus_uploads.bp)
    app.register_blueprint(report_views.citizen_bp)
    app.register_blueprint(report_views.public_bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(open311_clients.bp)
    app.jinja_env.globals["citizen_reports_here"] = report_views.citizen_reports_here  # the citizen's home page

    @app.get("/api/v1/health")
    def health():
        return jsonify(ok=True)

    return app

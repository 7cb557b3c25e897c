"""The box's app factory."""
import logging

from flask import Flask
from motcua.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PackageLoader

from devices.health import attach_log_file
from motcua import tracking
from motcua.settings import load_settings
from motcua.web import (configure_logging, install_assets, install_error_handlers, local_time, refuse_cross_site,
                        secret_key)
from office.clock import local_clock
from office.db import bind, open_database
from office.models import MODELS

from . import api, auth, cccd_views, console, dossier_views, screens
from . import catalog_views, dossier_files, report_views, stats_views
from .box import Box

log = logging.getLogger("motcua.edge")


def create_app(settings=None, tasks=None):
    """Build the box's web app. ``tasks`` maps task names to huey tasks (enqueue only)."""
    settings = settings or load_settings("edge")
    configure_logging(settings["log_level"])
    attach_log_file(settings["data_dir"], "web", settings["timezone"],  # <data_dir>/logs/web.log, shown by the console
                    max_mb=settings["log_file_mb"], count=settings["log_file_count"])
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=256 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # a kiosk or counter page stays open all day: the token lives with the session
        WTF_CSRF_HEADERS=["X-CSRFToken"],
    )
    app.json.ensure_ascii = False
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("motcua")])
    app.jinja_env.globals["office_title"] = app.config["OFFICE_TITLE"] = settings["office_title"]
    bind(open_database(settings["database"]), MODELS)
    if tasks is None:
        from .tasks import create_huey

        _, tasks = create_huey(settings)
    app.extensions["box"] = Box(settings, tasks)
    app.before_request(dossier_files.allow_scan_bodies)  # before any hook reads a form: a scan is larger
    install_error_handlers(app)
    # Every write comes from the box's own pages: same-site Origin, then the session's CSRF token
    # (forms carry it as a field, the pages' fetch calls as the X-CSRFToken header).
    app.before_request(refuse_cross_site)
    CSRFProtect(app)
    install_assets(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(screens.bp)
    app.register_blueprint(tracking.bp)
    app.extensions["to_local"] = local_clock(settings["timezone"])
    app.add_template_filter(local_time)  # times on pages in the office's time zone
    app.register_blueprint(console.bp)
    app.register_blueprint(dossier_views.bp)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(cccd_views.bp)
    app.register_blueprint(catalog_views.bp)
    app.register_blueprint(stats_views.bp)
    return app

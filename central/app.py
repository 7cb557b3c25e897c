"""The hub's app factory."""
from flask import Flask, jsonify, render_template
from jinja2 import ChoiceLoader, PackageLoader

from motcua.settings import load_settings
from motcua.web import configure_logging, install_assets, install_error_handlers, secret_key
from office.db import bind, open_database

HUB_MODELS = ()


def create_app(settings=None):
    settings = settings or load_settings("hub")
    configure_logging(settings["log_level"])
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key(settings), MAX_CONTENT_LENGTH=32 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("motcua")])
    bind(open_database(settings["database"]), HUB_MODELS)
    app.extensions["hub"] = settings
    install_error_handlers(app)
    install_assets(app)

    @app.get("/")
    def index():
        return render_template("hub_index.html")

    @app.get("/api/v1/health")
    def health():
        return jsonify(ok=True)

    return app

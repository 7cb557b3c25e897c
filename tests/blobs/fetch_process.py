"""Run the box worker's blob transfer once, in its own process (the SIGKILL test kills it):
``python -m tests.blobs.fetch_process <data_dir> <commune> <hub_url>``."""
import json
import sys

from motcua.settings import load_settings
from office.db import bind, open_database
from office.models import MODELS


def main(data_dir, commune, hub_url):
    settings = load_settings("edge", environ={}, overrides={"data_dir": data_dir, "commune_code": commune,
                                                            "hub_url": hub_url})
    bind(open_database(settings["database"]), MODELS)
    from edge.tasks import _blob_transfer

    print(json.dumps(_blob_transfer(settings)), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])

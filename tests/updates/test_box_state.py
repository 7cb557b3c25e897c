"""A box's update state without a hub: a switch whose guard died, offers it must not act on."""
import time

from updates import state
from updates.box import consider, maybe_switch


def test_switch_interrupted_by_a_power_cut_is_settled_and_not_retried(settings):
    state.save(settings, version="9.9.9", state=state.SWITCHING, deadline=time.time() - 120)
    assert maybe_switch(settings) == "switch to 9.9.9 interrupted"  # this process does not run 9.9.9
    settled = state.load(settings)
    assert settled["state"] == state.FAILED and "9.9.9" in settled["refused"] and "gián đoạn" in settled["reason"]
    assert maybe_switch(settings) == ""


def test_installed_release_waits_for_its_window(settings):
    settings.update(update_window="03:00-03:00")  # never open
    state.save(settings, version="9.9.9", state=state.INSTALLED)
    (state.release_dir(settings, "9.9.9") / "venv" / "bin").mkdir(parents=True)
    (state.release_dir(settings, "9.9.9") / "venv" / "bin" / "python").touch()
    (state.release_dir(settings, "9.9.9") / "installed").write_text("{}")
    assert maybe_switch(settings) == ""
    assert state.load(settings)["state"] == state.INSTALLED


def test_offer_of_the_running_version_or_a_bad_name_does_nothing(settings):
    assert consider(settings, {"version": state.running_version()}, client=None) == ""
    assert consider(settings, {"version": "../../etc"}, client=None).startswith("offer with a bad version")
    assert not state.releases_dir(settings).exists()

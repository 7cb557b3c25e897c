"""Accessibility check for the e2e tests: axe-core run inside the page.

axe-core comes with the ``axe-playwright-python`` package (its bundled ``axe.min.js``), so nothing is
fetched from the network. A page passes when axe reports no violation of impact "serious" or
"critical"; the message lists each one with the first offending elements.
"""
from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")

_axe = Axe()


def violations(page, impacts=BLOCKING):
    """The axe violations of the page as it is now, restricted to ``impacts``."""
    found = _axe.run(page).response["violations"]
    return [v for v in found if v.get("impact") in impacts]


def describe(found):
    lines = []
    for v in found:
        targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)


def assert_accessible(page):
    found = violations(page)
    assert not found, f"{page.url}\n{describe(found)}"

"""The physical rating keypad: buttons on GPIO, best rating on the first pin."""
import functools
import logging

log = logging.getLogger("motcua.keypad")

SCORES = (3, 2, 1)  # Rất hài lòng, Hài lòng, Chưa hài lòng


def parse_pins(text):
    pins = [p.strip() for p in (text or "").split(",") if p.strip()]
    return [int(p) if p.isdigit() else p for p in pins]


class RatingKeypad:
    """Calls ``on_rate(score)`` for each key press; owns its GPIO lines until ``close()``."""

    def __init__(self, pins, on_rate, pin_factory=None, bounce_time=0.05):
        if len(pins) != len(SCORES):
            raise ValueError(f"the rating keypad needs {len(SCORES)} pins, got {len(pins)}")
        from gpiozero import ButtonBoard  # ~2 MB, loaded only by a box that has a keypad

        self.on_rate = on_rate
        self.board = ButtonBoard(*pins, pull_up=True, bounce_time=bounce_time, pin_factory=pin_factory)
        for button, score in zip(self.board, SCORES):
            button.when_pressed = functools.partial(self._pressed, score)

    def _pressed(self, score):
        try:
            self.on_rate(score)
        except Exception:  # a key press must never kill the process that owns the pins
            log.exception("rating key %s could not be recorded", score)

    def close(self):
        self.board.close()

"""Generate the shipped voice clips (offline, once) with espeak-ng.

    python -m devices.make_clips [--out DIR] [--voice vi] [--speed N]

Writes ``<name>.wav`` for every name in :data:`devices.voice.CLIP_NAMES`:
16 kHz mono 16-bit PCM, leading/trailing silence trimmed, peak-normalised.
``chime`` is synthesised here with the standard library (no espeak-ng).

espeak-ng is only needed when (re)generating; the product plays the WAV files
committed in ``devices/clips/`` (or recordings that replace them). Everything
after the espeak-ng call (trimming, resampling, normalising) is pure Python,
so sox is not needed.
"""

from __future__ import annotations

import argparse
import array
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

from devices.voice import CLIP_NAMES, CLIP_TEXT, SHIPPED_DIR

SAMPLE_RATE = 16000
DEFAULT_VOICE = "vi"
DEFAULT_SPEED = 140  # words per minute; espeak-ng's default 175 is hurried for a lobby

PEAK = 0.70          # peak level of speech clips (about -3 dBFS)
LEAD_S = 0.010       # silence kept before the first sound
TAIL_S = 0.050       # silence kept after the last sound
FADE_S = 0.004       # tiny fade in/out so cut points never click

# espeak-ng reads a few letter names wrongly as written; say them this way.
SPEAK_TEXT = {
    "chu_j": "di",          # "gi" alone comes out as a bare consonant
    "chu_y": "i cờ rếch",  # "i-grếch" is spelled out in English otherwise
}


class EspeakMissing(RuntimeError):
    pass


def speak_text(name: str) -> str:
    """The text espeak-ng is given for clip ``name``."""
    return SPEAK_TEXT.get(name, CLIP_TEXT[name]).replace("-", " ")


# --------------------------------------------------------------------------
# WAV helpers (16-bit mono)

def read_wav(path: Path) -> tuple[list[int], int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        channels, rate = w.getnchannels(), w.getframerate()
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    samples = data.tolist()
    if channels > 1:  # mix down
        samples = [sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)]
    return samples, rate


def write_wav(path: Path, samples: list[int], rate: int = SAMPLE_RATE) -> None:
    data = array.array("h", (max(-32768, min(32767, int(round(s)))) for s in samples))
    if sys.byteorder == "big":
        data.byteswap()
    tmp = path.with_name(path.name + ".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# Signal processing, pure Python

def trim_silence(samples: list[float], rate: int, lead: float = LEAD_S, tail: float = TAIL_S) -> list[float]:
    """Cut silence at both ends, keeping ``lead``/``tail`` seconds of it."""
    if not samples:
        return samples
    peak = max(abs(s) for s in samples)
    if peak == 0:
        return samples[: int(rate * 0.1)]
    threshold = max(16.0, peak * 0.005)
    loud = [i for i, s in enumerate(samples) if abs(s) > threshold]
    start = max(0, loud[0] - int(rate * lead))
    end = min(len(samples), loud[-1] + 1 + int(rate * tail))
    return samples[start:end]


def resample(samples: list[float], src: int, dst: int, half_taps: int = 16) -> list[float]:
    """Band-limited (windowed-sinc, polyphase) resampling from ``src`` to ``dst`` Hz."""
    if src == dst or not samples:
        return list(samples)
    ratio = Fraction(src, dst)
    up, down = ratio.denominator, ratio.numerator  # out index i reads input at i*down/up
    cutoff = min(1.0, dst / src) * 0.92  # fraction of the input Nyquist frequency
    taps = range(-half_taps + 1, half_taps + 1)
    # One filter per fractional phase p/up.
    phases = []
    for p in range(up):
        frac = p / up
        weights = []
        for j in taps:
            x = frac - j  # distance (in input samples) from the output instant
            w = cutoff if x == 0 else math.sin(math.pi * cutoff * x) / (math.pi * x)
            w *= 0.5 + 0.5 * math.cos(math.pi * x / (half_taps + 1))  # Hann window
            weights.append(w)
        phases.append(weights)
    pad = [0.0] * (half_taps + 1)
    padded = pad + list(samples) + pad
    offset = len(pad)
    out_len = len(samples) * up // down
    out = []
    for i in range(out_len):
        center, p = divmod(i * down, up)
        start = offset + center - half_taps + 1
        out.append(sum(map(float.__mul__, phases[p], padded[start:start + 2 * half_taps])))
    return out


def normalise(samples: list[float], peak: float = PEAK) -> list[float]:
    top = max((abs(s) for s in samples), default=0)
    if top == 0:
        return samples
    gain = peak * 32767 / top
    return [s * gain for s in samples]


def fade(samples: list[float], rate: int, fade_in: float = FADE_S, fade_out: float = FADE_S) -> list[float]:
    out = list(samples)
    n_in = min(len(out), int(rate * fade_in))
    for i in range(n_in):
        out[i] *= i / n_in
    n_out = min(len(out), int(rate * fade_out))
    for i in range(n_out):
        out[-1 - i] *= i / n_out
    return out


# --------------------------------------------------------------------------
# Chime

def chime(rate: int = SAMPLE_RATE, duration: float = 0.9, level: float = 0.5) -> list[float]:
    """A two-tone "ding-dong" (G5 then E5), bell-like partials, fading out."""
    n = int(rate * duration)
    out = [0.0] * n
    # (start s, fundamental Hz)
    notes = ((0.0, 783.99), (0.32, 659.25))
    partials = ((1.0, 1.0), (2.0, 0.28), (3.0, 0.08), (4.2, 0.04))  # (ratio, amplitude)
    norm = sum(a for _, a in partials)
    attack = 0.006
    decay = 0.28  # seconds, exponential time constant
    for start_s, freq in notes:
        first = int(start_s * rate)
        for i in range(first, n):
            t = (i - first) / rate
            env = min(1.0, t / attack) * math.exp(-t / decay)
            value = sum(a * math.sin(2 * math.pi * freq * r * t) for r, a in partials if freq * r < rate / 2)
            out[i] += env * value / norm
    # Linear fade over the last 0.25 s so the file ends in silence.
    tail = int(0.25 * rate)
    for k in range(tail):
        out[n - 1 - k] *= k / tail
    top = max(abs(s) for s in out)
    return [s * level * 32767 / top for s in out]


# --------------------------------------------------------------------------
# espeak-ng

def find_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if not exe:
        raise EspeakMissing(
            "espeak-ng is not installed (needed only to generate clips, not to play them). "
            "Install it, e.g. `apt-get install espeak-ng`, or record the clips by hand."
        )
    return exe


def espeak(text: str, voice: str, speed: int, exe: str | None = None) -> tuple[list[int], int]:
    exe = exe or find_espeak()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        result = subprocess.run(
            [exe, "-v", voice, "-s", str(speed), "-w", str(wav), text],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0 or not wav.exists():
            raise RuntimeError(f"espeak-ng failed for {text!r}: {result.stderr.strip() or result.returncode}")
        return read_wav(wav)


def make_clip(name: str, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED,
              rate: int = SAMPLE_RATE, exe: str | None = None) -> list[float]:
    """The samples of clip ``name`` at ``rate`` Hz."""
    if name == "chime":
        return chime(rate)
    samples, src_rate = espeak(speak_text(name), voice, speed, exe)
    audio = trim_silence([float(s) for s in samples], src_rate)
    audio = resample(audio, src_rate, rate)
    return fade(normalise(audio), rate)


def generate(out_dir: Path, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED,
             names: list[str] | None = None, rate: int = SAMPLE_RATE, log=print) -> list[Path]:
    """Write ``<out_dir>/<name>.wav`` for ``names`` (default: all of CLIP_NAMES)."""
    names = sorted(CLIP_NAMES) if not names else list(names)
    unknown = [n for n in names if n not in CLIP_NAMES]
    if unknown:
        raise ValueError(f"unknown clip names: {', '.join(unknown)}")
    exe = find_espeak() if any(n != "chime" for n in names) else None
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = out_dir / f"{name}.wav"
        samples = make_clip(name, voice, speed, rate, exe)
        write_wav(path, samples, rate)
        written.append(path)
        if log:
            log(f"{path.name:18} {len(samples) / rate:5.2f} s  {CLIP_TEXT[name]}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.make_clips",
        description="Generate the ticket-call voice clips with espeak-ng.",
    )
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR,
                        help=f"output directory (default: {SHIPPED_DIR})")
    parser.add_argument("--voice", default=DEFAULT_VOICE,
                        help="espeak-ng voice: vi (northern), vi-vn-x-south, vi-vn-x-central (default: vi)")
    parser.add_argument("--speed", type=int, default=DEFAULT_SPEED,
                        help=f"speaking rate in words per minute (default: {DEFAULT_SPEED})")
    parser.add_argument("--rate", type=int, default=SAMPLE_RATE,
                        help=f"sample rate of the written files (default: {SAMPLE_RATE})")
    parser.add_argument("names", nargs="*", help="only these clips (default: all)")
    args = parser.parse_args(argv)
    try:
        written = generate(args.out, args.voice, args.speed, args.names, args.rate)
    except (EspeakMissing, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in written)
    print(f"{len(written)} clips, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

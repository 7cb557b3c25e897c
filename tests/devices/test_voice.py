"""Vietnamese number reading, call clip lists and the shipped voice clips."""

import wave

import pytest

from devices import make_clips
from devices.voice import (
    CLIP_NAMES,
    CLIP_TEXT,
    SHIPPED_DIR,
    call_clips,
    clip_path,
    letter_clip,
    read_number,
)

# n: (north, south), as Vietnamese text; clip names are mapped through CLIP_TEXT.
READINGS = {
    0: ("không", "không"),
    1: ("một", "một"),
    4: ("bốn", "bốn"),
    5: ("năm", "năm"),
    10: ("mười", "mười"),
    11: ("mười một", "mười một"),
    14: ("mười bốn", "mười bốn"),
    15: ("mười lăm", "mười lăm"),
    20: ("hai mươi", "hai mươi"),
    21: ("hai mươi mốt", "hai mươi mốt"),
    24: ("hai mươi tư", "hai mươi bốn"),
    25: ("hai mươi lăm", "hai mươi lăm"),
    100: ("một trăm", "một trăm"),
    101: ("một trăm linh một", "một trăm lẻ một"),
    104: ("một trăm linh bốn", "một trăm lẻ bốn"),
    105: ("một trăm linh năm", "một trăm lẻ năm"),
    110: ("một trăm mười", "một trăm mười"),
    115: ("một trăm mười lăm", "một trăm mười lăm"),
    121: ("một trăm hai mươi mốt", "một trăm hai mươi mốt"),
    999: ("chín trăm chín mươi chín", "chín trăm chín mươi chín"),
    1000: ("một nghìn", "một ngàn"),
    1005: ("một nghìn không trăm linh năm", "một ngàn không trăm lẻ năm"),
    2010: ("hai nghìn không trăm mười", "hai ngàn không trăm mười"),
    1100: ("một nghìn một trăm", "một ngàn một trăm"),
    34: ("ba mươi tư", "ba mươi bốn"),
    91: ("chín mươi mốt", "chín mươi mốt"),
    1234: ("một nghìn hai trăm ba mươi tư", "một ngàn hai trăm ba mươi bốn"),
    9999: ("chín nghìn chín trăm chín mươi chín", "chín ngàn chín trăm chín mươi chín"),
}


def spoken(clips):
    return " ".join(CLIP_TEXT[c] for c in clips)


@pytest.mark.parametrize("n", sorted(READINGS))
@pytest.mark.parametrize("reading", ["north", "south"])
def test_read_number(n, reading):
    expected = READINGS[n][0 if reading == "north" else 1]
    assert spoken(read_number(n, reading)) == expected


def test_read_number_exact_clip_names():
    assert read_number(105) == ["mot", "tram", "linh", "nam"]
    assert read_number(105, "south") == ["mot", "tram", "le", "nam"]
    assert read_number(21) == ["hai", "muoi2", "mot_sac"]
    assert read_number(11) == ["muoi", "mot"]
    assert read_number(24) == ["hai", "muoi2", "tu"]
    assert read_number(24, "south") == ["hai", "muoi2", "bon"]
    assert read_number(1005) == ["mot", "nghin", "khong", "tram", "linh", "nam"]
    assert read_number(2010, "south") == ["hai", "ngan", "khong", "tram", "muoi"]


def test_default_reading_is_north():
    assert read_number(24) == read_number(24, "north")


@pytest.mark.parametrize("bad", ["central", "", "North"])
def test_unknown_reading_raises(bad):
    with pytest.raises(ValueError):
        read_number(5, bad)
    with pytest.raises(ValueError):
        call_clips("A", 1, 1, reading=bad)


@pytest.mark.parametrize("n", [-1, 10000])
def test_out_of_range_raises(n):
    with pytest.raises(ValueError):
        read_number(n)


def test_every_number_uses_known_clips():
    for reading in ("north", "south"):
        for n in range(10000):
            clips = read_number(n, reading)
            assert clips and set(clips) <= CLIP_NAMES, n


def test_call_clips():
    assert call_clips("A", 15, 2) == [
        "chime", "moi_so", "chu_a", "muoi", "lam", "den_quay_so", "hai",
    ]


def test_call_clips_south_and_multi_letter_prefix():
    assert call_clips("bc", 24, 14, reading="south") == [
        "chime", "moi_so", "chu_b", "chu_c", "hai", "muoi2", "bon",
        "den_quay_so", "muoi", "bon",
    ]


def test_letter_clip():
    assert letter_clip("A") == "chu_a"
    assert letter_clip("z") == "chu_z"
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert letter_clip(letter) in CLIP_NAMES
    for bad in ("Đ", "1", "AB", ""):
        with pytest.raises(ValueError):
            letter_clip(bad)


def test_clip_names_cover_everything_and_chime():
    assert "chime" in CLIP_NAMES
    assert all(name.isascii() and name.replace("_", "").isalnum() for name in CLIP_NAMES)


@pytest.mark.parametrize("name", sorted(CLIP_NAMES))
def test_shipped_clip_is_a_valid_wav(name):
    path = clip_path(name)
    assert path == SHIPPED_DIR / f"{name}.wav"
    assert path.is_file()
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() > 0
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getframerate() in (16000, 22050)
        assert w.getnframes() / w.getframerate() < 2.0


def test_shipped_clips_share_one_format_and_stay_small():
    rates = set()
    total = 0
    for name in CLIP_NAMES:
        path = SHIPPED_DIR / f"{name}.wav"
        total += path.stat().st_size
        with wave.open(str(path), "rb") as w:
            rates.add(w.getframerate())
    assert len(rates) == 1
    assert total < 1_000_000


def test_override_dir_wins_and_missing_falls_back(tmp_path):
    recorded = tmp_path / "moi_so.wav"
    recorded.write_bytes(b"RIFF")
    assert clip_path("moi_so", tmp_path) == recorded
    assert clip_path("moi_so", str(tmp_path)) == recorded
    assert clip_path("hai", tmp_path) == SHIPPED_DIR / "hai.wav"
    assert clip_path("moi_so", tmp_path / "nope") == SHIPPED_DIR / "moi_so.wav"
    assert clip_path("moi_so", None) == SHIPPED_DIR / "moi_so.wav"
    assert clip_path("moi_so", "") == SHIPPED_DIR / "moi_so.wav"


def test_override_picked_up_without_restart(tmp_path):
    assert clip_path("chime", tmp_path) == SHIPPED_DIR / "chime.wav"
    (tmp_path / "chime.wav").write_bytes(b"RIFF")
    assert clip_path("chime", tmp_path) == tmp_path / "chime.wav"


def test_unknown_clip_name_raises(tmp_path):
    with pytest.raises(KeyError):
        clip_path("nope")
    with pytest.raises(ValueError):
        clip_path("../../etc/passwd", tmp_path)


# --- generator helpers (no espeak-ng needed) ---

def test_chime_is_short_and_fades_out(tmp_path):
    samples = make_clips.chime(16000)
    assert 0.8 <= len(samples) / 16000 <= 1.0
    assert max(abs(s) for s in samples) <= 32767
    assert abs(samples[-1]) < 50
    out = tmp_path / "chime.wav"
    make_clips.write_wav(out, samples, 16000)
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert w.getnframes() == len(samples)


def test_trim_silence_keeps_the_sound():
    sound = [0.0] * 1000 + [1000.0, -1000.0] * 100 + [0.0] * 5000
    trimmed = make_clips.trim_silence(sound, 16000, lead=0.01, tail=0.05)
    assert len(trimmed) == 160 + 200 + 800
    assert max(trimmed) == 1000.0


def test_missing_espeak_gives_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(make_clips.shutil, "which", lambda name: None)
    assert make_clips.main(["--out", str(tmp_path), "moi_so"]) == 2
    assert "espeak-ng is not installed" in capsys.readouterr().err
    # The chime alone needs no espeak-ng.
    assert make_clips.main(["--out", str(tmp_path), "chime"]) == 0
    assert (tmp_path / "chime.wav").is_file()


@pytest.mark.skipif(make_clips.shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_generate_one_clip_with_espeak(tmp_path):
    [path] = make_clips.generate(tmp_path, names=["hai"], log=None)
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert 0.1 < w.getnframes() / 16000 < 1.5

"""The machine's cache folder (pipeline.cachefiles): the language model kept ready to use, written
once, read by the next processes, and built again when its file is torn or foreign."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

from pipeline.cachefiles import load_pickle, save_pickle
from tests.conftest import ROOT

DETECT = (
    "from pipeline.language import detect;"
    "print(detect('Это короткий текст о погоде в городе и о новых планах на неделю.')[0])"
)


def _detect_in_new_process(cache: Path) -> str:
    env = dict(os.environ, MEDIAWATCH_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", DETECT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_language_model_is_built_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _detect_in_new_process(cache) == "ru"
    (model,) = cache.glob("langid-*.pickle")
    written = model.stat().st_mtime_ns
    assert _detect_in_new_process(cache) == "ru"
    assert model.stat().st_mtime_ns == written  # read, not written again

    for spoiled in (b"torn", pickle.dumps({"not": "a model"})):
        model.write_bytes(spoiled)
        assert _detect_in_new_process(cache) == "ru"
        assert model.stat().st_size > 1_000_000  # built again and kept


def test_a_cache_file_replaces_the_older_ones_of_its_kind(tmp_path: Path) -> None:
    save_pickle(tmp_path / "thing-1.pickle", [1])
    os.utime(tmp_path / "thing-1.pickle", (1, 1))  # older
    save_pickle(tmp_path / "other-1.pickle", "kept: another kind")
    save_pickle(tmp_path / "thing-2.pickle", [2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-1.pickle", "thing-2.pickle"]
    assert load_pickle(tmp_path / "thing-2.pickle", list) == [2]
    assert load_pickle(tmp_path / "thing-2.pickle", dict) is None  # not what was asked for
    assert load_pickle(tmp_path / "missing-1.pickle", list) is None


def test_a_folder_that_cannot_be_written_only_means_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    save_pickle(blocker / "thing-1.pickle", [1])  # logged, not raised
    assert load_pickle(blocker / "thing-1.pickle", list) is None

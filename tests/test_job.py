"""augcore.run / augcore.plan against files and bytes on disk."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_imageio import png_header_only

import augcore
from augcore.errors import InputImageError, OutputConflictError, UnsafePathError
from augcore.job.execute import HELD_BATCHES, JobSpec, Task, ThisProcess, Worker, run_in_order
from augcore.job.local import LocalPool, fork_is_safe, modules_of
from augcore.manifest import read_manifest


def make_image(path: Path, size: tuple[int, int] = (20, 14), mode: str = "RGB", seed: int = 0):
    """Write a small random image (size = width, height) and return its path."""
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], *channels), np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode).save(path)
    return path


def pixels_of(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def make_tree(root: Path, names: Iterable[str]) -> Path:
    for seed, name in enumerate(names):
        make_image(root / name, seed=seed)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative POSIX path -> bytes)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def images_in(folder: Path) -> set[str]:
    return {name for name in snapshot(folder) if name != "manifest.jsonl"}


TREE = ("cats/x.png", "dogs/x.png", "dogs/deep/y.png")


def test_exactly_k_outputs_per_input_named_after_their_folders(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    make_image(data / "gray.png", mode="L", seed=7)
    make_image(data / "alpha.png", mode="RGBA", seed=8)
    summary = augcore.run([data], tmp_path / "out", per_image=3, seed=0, jobs=1)
    stems = ["cats/x", "dogs/x", "dogs/deep/y", "gray", "alpha"]
    expected = {f"{stem}__k{k}.png" for stem in stems for k in range(3)}
    assert images_in(tmp_path / "out") == expected
    assert (summary.inputs, summary.outputs, summary.written, summary.skipped) == (5, 15, 15, [])
    assert summary.complete
    with Image.open(tmp_path / "out" / "gray__k1.png") as gray:
        assert gray.mode == "L" and gray.size == (20, 14)
    with Image.open(tmp_path / "out" / "alpha__k0.png") as alpha:
        assert alpha.mode == "RGBA"


def test_the_manifest_records_every_output_with_its_checksum_and_record(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    augcore.run([data], tmp_path / "out", per_image=2, seed=5, jobs=1)
    manifest = read_manifest(tmp_path / "out" / "manifest.jsonl")
    header = manifest.header
    assert (header["seed"], header["per_image"], header["inputs"]) == (5, 2, 3)
    assert header["chain"] == augcore.Pipeline.default().to_config()
    assert header["augcore_version"] == augcore.__version__
    assert {entry["path"] for entry in manifest.entries} == images_in(tmp_path / "out")
    pipeline = augcore.Pipeline.default()
    for entry in manifest.entries:
        assert entry["source"] == str(data / entry["key"])
        written = (tmp_path / "out" / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(written).hexdigest()
        source = pixels_of(Path(entry["source"]))
        _, record = pipeline.augment(source, seed=5, key=entry["key"], k=entry["k"])
        assert entry["record"] == json.loads(json.dumps(record.to_dict()))


def test_outputs_equal_augment_of_the_same_identity(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    augcore.run([data], tmp_path / "out", per_image=2, seed=3, jobs=1)
    image = pixels_of(data / "a.png")
    for k in range(2):
        expected, _ = augcore.Pipeline.default().augment(image, seed=3, key="a.png", k=k)
        written = pixels_of(tmp_path / "out" / f"a__k{k}.png")
        np.testing.assert_array_equal(written, expected)


def test_two_workers_write_byte_identical_files_and_manifest(tmp_path):
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(21)] + list(TREE))
    augcore.run([data], tmp_path / "one", per_image=3, seed=11, jobs=1)
    augcore.run([data], tmp_path / "two", per_image=3, seed=11, jobs=2)  # 24 inputs: 2 workers
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert len(one) == 24 * 3 + 1
    assert one == two


def test_a_forkserver_preloads_the_modules_the_chain_unpickles_from():
    pipeline = augcore.Pipeline.default()
    expected = {type(pipeline).__module__} | {type(step).__module__ for step in pipeline.steps}
    expected.add("augcore.plugins.geometric")  # the default chain's transforms live there
    assert expected <= set(modules_of(pickle.dumps(pipeline)))


def test_a_quiet_run_leaves_no_thread_behind(tmp_path):
    """A leftover thread (tqdm's monitor) would make the next run's workers slow to start."""
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(16)])
    before = set(threading.enumerate())
    augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=2, quiet=True)
    assert set(threading.enumerate()) <= before


def test_with_another_thread_running_workers_are_not_forked_and_write_the_same_bytes(tmp_path):
    """Forking a process with a second thread could copy a held lock: forkserver is used."""
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(16)])
    augcore.run([data], tmp_path / "one", per_image=2, seed=5, jobs=1)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not fork_is_safe()
        augcore.run([data], tmp_path / "two", per_image=2, seed=5, jobs=2)
    finally:
        release.set()
        other.join()
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_a_list_naming_a_file_twice_gives_distinct_outputs(tmp_path):
    image = make_image(tmp_path / "imgs" / "x.png")
    other = make_image(tmp_path / "other" / "x.png", seed=1)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{image}\n\n  {image}  \n{other}\n")
    summary = augcore.run([], tmp_path / "out", per_image=2, seed=0, from_list=listing, jobs=1)
    assert summary.outputs == 6
    assert images_in(tmp_path / "out") == {
        f"{stem}__k{k}.png" for stem in ("imgs/x", "imgs/x~2", "other/x") for k in range(2)
    }
    keys = {entry["key"] for entry in read_manifest(tmp_path / "out" / "manifest.jsonl").entries}
    assert keys == {"imgs/x.png", "imgs/x~2.png", "other/x.png"}


def test_size_and_format_options(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    make_image(data / "b.png", mode="RGBA", seed=4)
    augcore.run([data], tmp_path / "out", per_image=1, seed=0, size="12x8", format="tif", jobs=1)
    with Image.open(tmp_path / "out" / "a__k0.tif") as tif:
        assert tif.format == "TIFF" and tif.size == (12, 8)
    augcore.run([data], tmp_path / "jpg", per_image=1, seed=0, format="jpg", jobs=1)
    with Image.open(tmp_path / "jpg" / "b__k0.jpg") as jpg:
        assert jpg.format == "JPEG" and jpg.mode == "RGB"  # JPEG cannot hold the alpha


def test_a_rerun_of_a_finished_run_writes_nothing(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1)
    before = snapshot(tmp_path / "out")
    times = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.png")}
    again = augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1)
    assert (again.written, again.already_there) == (0, 6)
    assert snapshot(tmp_path / "out") == before
    assert times == {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.png")}


def test_resume_after_an_interruption_gives_the_uninterrupted_result(tmp_path):
    data = make_tree(tmp_path / "data", [f"f{i}.png" for i in range(6)])
    augcore.run([data], tmp_path / "reference", per_image=3, seed=2, jobs=1)
    out = tmp_path / "out"
    augcore.run([data], out, per_image=3, seed=2, jobs=1)
    # Simulate a kill: the last 4 outputs never recorded, one of them never written,
    # a torn manifest line and a temporary file left behind.
    manifest = out / "manifest.jsonl"
    lines = manifest.read_bytes().splitlines(keepends=True)
    lost = [json.loads(line)["path"] for line in lines[-4:]]
    manifest.write_bytes(b"".join(lines[:-4]) + lines[-4][:25])
    (out / lost[0]).unlink()
    (out / f".augcore-{lost[1]}.abc123.tmp").write_bytes(b"half an ima")
    summary = augcore.run([data], out, per_image=3, seed=2, jobs=2)
    assert summary.written == 4 and summary.already_there == 14
    assert snapshot(out) == snapshot(tmp_path / "reference")


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"per_image": 3},
        {"config": {"steps": [{"transform": "rotate", "degrees": 10}]}},
        {"size": "10x10"},
    ],
)
def test_a_different_run_on_an_earlier_runs_folder_is_refused(tmp_path, change):
    data = make_tree(tmp_path / "data", TREE)
    arguments = {"per_image": 2, "seed": 0, "jobs": 1}
    augcore.run([data], tmp_path / "out", **arguments)
    before = snapshot(tmp_path / "out")
    with pytest.raises(OutputConflictError, match="different run"):
        augcore.run([data], tmp_path / "out", **{**arguments, **change})
    assert snapshot(tmp_path / "out") == before


def test_different_sources_on_an_earlier_runs_folder_are_refused(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=1)
    make_image(data / "new.png", seed=9)
    with pytest.raises(OutputConflictError, match="inputs"):
        augcore.run([data], tmp_path / "out", per_image=1, seed=0, jobs=1)


def test_overwrite_replaces_the_earlier_runs_files_and_nothing_else(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    out = tmp_path / "out"
    augcore.run([data], out, per_image=3, seed=0, jobs=1)
    (out / "notes.txt").write_text("mine")
    augcore.run([data], out, per_image=2, seed=1, overwrite=True, jobs=1)
    assert images_in(out) == {
        f"{stem}__k{k}.png" for stem in ("cats/x", "dogs/x", "dogs/deep/y") for k in range(2)
    } | {"notes.txt"}
    assert (out / "notes.txt").read_text() == "mine"
    assert read_manifest(out / "manifest.jsonl").header["seed"] == 1
    fresh = tmp_path / "fresh"
    augcore.run([data], fresh, per_image=2, seed=1, jobs=1)
    assert {k: v for k, v in snapshot(out).items() if k != "notes.txt"} == snapshot(fresh)


def test_files_in_the_way_without_a_manifest_are_not_overwritten(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    out.mkdir()
    (out / "a__k1.png").write_bytes(b"someone else's")
    (out / "unrelated.png").write_bytes(b"also theirs")
    with pytest.raises(OutputConflictError, match=r"a__k1\.png"):
        augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert snapshot(out) == {"a__k1.png": b"someone else's", "unrelated.png": b"also theirs"}
    augcore.run([data], out, per_image=2, seed=0, jobs=1, overwrite=True)
    assert (out / "a__k1.png").read_bytes() != b"someone else's"
    assert (out / "unrelated.png").read_bytes() == b"also theirs"


def test_an_output_folder_with_a_symlink_out_is_refused_before_writing(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "cats")
    with pytest.raises(UnsafePathError, match=r"cats/x__k0\.png"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["cats"]


def test_overwrite_never_deletes_outside_the_folder_whatever_the_manifest_says(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"keep me")
    manifest = out / "manifest.jsonl"
    manifest.write_text(manifest.read_text() + json.dumps({"path": "../victim.png"}) + "\n")
    with pytest.raises(UnsafePathError, match="victim"):
        augcore.run([data], out, per_image=1, seed=9, jobs=1, overwrite=True)
    assert victim.read_bytes() == b"keep me"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.png", None, "no such file"),
        ("notes.txt", b"hello", "unknown image extension"),
    ],
)
def test_inputs_found_bad_up_front_stop_the_run_before_anything_is_written(
    tmp_path, name, content, reason
):
    data = make_tree(tmp_path / "data", ("a.png",))
    bad = tmp_path / name
    if content is not None:
        bad.write_bytes(content)
    with pytest.raises(InputImageError, match=rf"(?s)nothing was written.*{name}: {reason}"):
        augcore.run([data, bad], tmp_path / "out", per_image=2, seed=0, jobs=1)
    assert not (tmp_path / "out").exists()


def test_an_unreadable_list_file_stops_the_run(tmp_path):
    with pytest.raises(InputImageError, match=r"nope\.txt: list file not found"):
        augcore.run([], tmp_path / "out", per_image=1, seed=0, from_list=tmp_path / "nope.txt")
    assert not (tmp_path / "out").exists()


def _write_bad_inputs(data: Path) -> dict[str, str]:
    """Inputs that only decoding can find bad, with the reason each must be reported for."""
    (data / "b_empty.png").write_bytes(b"")
    (data / "c_text.png").write_bytes(b"this is not a png")
    truncated = make_image(data / "d_truncated.png", size=(64, 64))
    truncated.write_bytes(truncated.read_bytes()[:200])
    Image.fromarray(np.ones((4, 4), np.float32)).save(data / "e_float.tif")
    (data / "f_bomb.png").write_bytes(png_header_only(100_000, 100_000))
    return {
        "b_empty.png": "empty file",
        "c_text.png": "not an image",
        "d_truncated.png": "cannot decode",
        "e_float.tif": "unsupported image mode",
        "f_bomb.png": "decompression bomb",
    }


def test_a_bad_file_stops_the_run_at_that_file_keeping_what_was_written(tmp_path):
    data = make_tree(tmp_path / "data", ("a_good.png", "z_good.png"))
    _write_bad_inputs(data)
    out = tmp_path / "out"
    with pytest.raises(InputImageError, match=r"(?s)b_empty\.png: empty file.*kept and recorded"):
        augcore.run([data], out, per_image=2, seed=0, jobs=1)
    manifest = read_manifest(out / "manifest.jsonl")
    assert images_in(out) == {"a_good__k0.png", "a_good__k1.png"}
    assert {entry["path"] for entry in manifest.entries} == images_in(out)


def test_skip_goes_on_and_lists_every_bad_file_with_its_reason(tmp_path):
    data = make_tree(tmp_path / "data", ("a_good.png", "z_good.png"))
    reasons = _write_bad_inputs(data)
    missing = tmp_path / "missing.png"
    summary = augcore.run(
        [data, missing], tmp_path / "out", per_image=2, seed=0, jobs=2, on_error="skip"
    )
    assert images_in(tmp_path / "out") == {f"{s}_good__k{k}.png" for s in "az" for k in range(2)}
    assert (summary.inputs, summary.outputs, summary.complete) == (2, 4, False)
    skipped = {Path(skip.path).name: skip.reason for skip in summary.skipped}
    assert set(skipped) == {*reasons, "missing.png"}
    for name, reason in reasons.items():
        assert name in skipped[name] and reason in skipped[name]


def test_plan_counts_names_and_skips_without_writing(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    (data / "broken.png").write_bytes(b"nope")
    plan = augcore.plan([data, tmp_path / "gone.png"], tmp_path / "out", per_image=4, seed=0)
    assert plan.outputs == 12 and len(plan.inputs) == 3
    assert plan.examples[:2] == [
        (str(data / "cats" / "x.png"), "cats/x__k0.png"),
        (str(data / "cats" / "x.png"), "cats/x__k1.png"),
    ]
    assert {Path(skip.path).name for skip in plan.skipped} == {"broken.png", "gone.png"}
    text = plan.describe()
    assert "12 outputs" in text and "gone.png: no such file" in text and "(new)" in text
    assert not (tmp_path / "out").exists()


def test_plan_says_whether_the_folder_resumes_or_would_be_refused(tmp_path):
    data = make_tree(tmp_path / "data", TREE)
    augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=1)
    (tmp_path / "out" / "cats" / "x__k1.png").unlink()
    resume = augcore.plan([data], tmp_path / "out", per_image=2, seed=0)
    assert resume.state == "resume: 5 of 6 outputs there"
    refused = augcore.plan([data], tmp_path / "out", per_image=2, seed=1)
    assert refused.state.startswith("run would be refused") and "seed" in refused.state


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"per_image": 0}, "per_image"),
        ({"seed": -1}, "seed"),
        ({"format": "gif"}, "format"),
        ({"on_error": "ignore"}, "on_error"),
        ({"jobs": 0}, "jobs"),
        ({"size": "28"}, "WIDTHxHEIGHT"),
    ],
)
def test_bad_options_are_job_option_errors_naming_the_option(tmp_path, option, message):
    data = make_tree(tmp_path / "data", ("a.png",))
    with pytest.raises(augcore.JobOptionError, match=message):
        augcore.run([data], tmp_path / "out", **{"per_image": 1, "seed": 0, **option})
    assert not (tmp_path / "out").exists()


def default_spec(out: Path) -> JobSpec:
    """What a worker gets for one variant per input of the default chain, as given."""
    return JobSpec(
        pipeline=pickle.dumps(augcore.Pipeline.default()),
        seed=0,
        per_image=1,
        size=None,
        out=str(out),
        max_pixels=None,
    )


def test_the_pool_streams_with_a_bounded_number_of_tasks_in_flight(tmp_path):
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(30)])
    spec = default_spec(tmp_path / "out")
    pulled = [0]
    ahead = []

    def batches():
        for path in sorted(data.iterdir()):
            pulled[0] += 1
            yield (Task(str(path), path.name, ((0, f"{path.stem}__k0.png"),)),)

    with LocalPool(spec, 1) as pool:
        results = run_in_order(Worker(spec), batches(), pool, stopping=lambda: False)
        for done, [result] in enumerate(results, 1):
            ahead.append(pulled[0] - done)  # batches taken from the source but not yet finished
            assert result.error is None
    assert len(ahead) == 30
    assert max(ahead) <= HELD_BATCHES


def test_a_manifest_line_without_a_path_is_a_manifest_error_not_a_crash(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    manifest = out / "manifest.jsonl"
    manifest.write_text(manifest.read_text() + json.dumps({"key": "a.png"}) + "\n")
    with pytest.raises(augcore.ManifestError, match="line 3 has no output path"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)


def test_a_corrupt_manifest_is_refused_then_replaced_with_overwrite(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    augcore.run([data], out, per_image=1, seed=0, jobs=1)
    (out / "manifest.jsonl").write_text("garbage\n")
    with pytest.raises(OutputConflictError, match="not JSON"):
        augcore.run([data], out, per_image=1, seed=0, jobs=1)
    augcore.run([data], out, per_image=1, seed=0, jobs=1, overwrite=True)
    assert [e["path"] for e in read_manifest(out / "manifest.jsonl").entries] == ["a__k0.png"]


def test_an_output_folder_inside_a_source_folder_is_not_read_back(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    out = data / "augmented"
    first = augcore.run([data], out, per_image=2, seed=0, jobs=1)
    again = augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert (first.inputs, again.inputs, again.written) == (2, 2, 0)
    assert len(images_in(out)) == 4


def test_list_entries_with_dotdot_and_symlinked_inputs_still_write_inside_out(tmp_path):
    outside = make_image(tmp_path / "elsewhere" / "secret.png")
    data = make_tree(tmp_path / "deep" / "data", ("a.png",))
    os.symlink(outside, data / "link.png")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{data}/../../elsewhere/secret.png\n{data / 'link.png'}\n")
    out = tmp_path / "deep" / "out"
    augcore.run([data], out, per_image=1, seed=0, from_list=listing, jobs=1)
    written = [path.resolve() for path in out.rglob("*.png")]
    assert len(written) == 4  # a, link (folder source), secret, link (list)
    assert all(path.is_relative_to(out.resolve()) for path in written)
    assert not list((tmp_path / "elsewhere").glob("*__k*"))


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, monkeypatch):
    fcntl = pytest.importorskip("fcntl", reason="folder locks are POSIX flock")
    from augcore.job import folder

    monkeypatch.setattr(folder, "LOCK_WAIT", 0.2)
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)  # what a running augcore holds
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OutputConflictError, match="another augcore run"):
            augcore.run([data], out, per_image=1, seed=0, jobs=1)
        assert list(out.iterdir()) == []
    finally:
        os.close(held)
    assert augcore.run([data], out, per_image=1, seed=0, jobs=1).written == 1


def test_a_run_waits_for_a_lock_released_within_the_wait(tmp_path):
    """The workers of a killed run hold its lock until they exit: a rerun waits for them."""
    fcntl = pytest.importorskip("fcntl", reason="folder locks are POSIX flock")
    data = make_tree(tmp_path / "data", ("a.png",))
    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    release = threading.Timer(0.3, os.close, args=(held,))
    release.start()
    try:
        assert augcore.run([data], out, per_image=1, seed=0, jobs=1).written == 1
    finally:
        release.join()


def test_a_worker_process_builds_its_pipeline_once_for_all_its_batches(tmp_path, monkeypatch):
    from augcore.job import execute as job
    from augcore.job.local import start_worker

    data = make_tree(tmp_path / "data", ("a.png", "b.png", "c.png"))
    spec = default_spec(tmp_path / "out")
    loads = []
    unpickle = pickle.loads
    monkeypatch.setattr(job.pickle, "loads", lambda data: loads.append(data) or unpickle(data))
    job.worker_for.cache_clear()
    try:
        start_worker(spec)  # the pool initializer (no parent process here: no watcher)
        for name in ("a.png", "b.png", "c.png"):
            task = Task(str(data / name), name, ((0, name.replace(".png", "__k0.png")),))
            [result] = job.run_batch(spec, (task,))
            assert result.error is None
    finally:
        job.worker_for.cache_clear()
    assert len(loads) == 1


def test_an_output_appears_under_its_final_name_only_by_the_rename_and_is_recorded_after(
    tmp_path, monkeypatch
):
    """Deterministic, not timed: every rename is watched at the moment it happens."""
    import augcore.imageio

    data = make_tree(tmp_path / "data", ("a.png", "b/c.png"))
    out = tmp_path / "out"
    renames = []
    replace = os.replace

    def watched(source, target):
        source, target = os.fspath(source), os.fspath(target)
        rel = Path(target).relative_to(out.resolve()).as_posix()
        assert not os.path.exists(target), f"{rel} existed before its rename"
        if rel == "manifest.jsonl":  # its header, placed first, whole
            assert renames == [] and Path(source).read_bytes().count(b"\n") == 1
            renames.append(rel)
            return replace(source, target)
        assert Path(source).parent == Path(target).parent  # same folder: an atomic rename
        assert Path(source).name.startswith(".augcore-")
        with Image.open(source) as image:
            image.load()  # the temporary file is complete before it is published
        recorded = read_manifest(out / "manifest.jsonl").entries
        assert rel not in {entry["path"] for entry in recorded}  # recorded only after
        renames.append(rel)
        replace(source, target)

    monkeypatch.setattr(augcore.imageio.os, "replace", watched)
    augcore.run([data], out, per_image=2, seed=0, jobs=1)
    assert renames[0] == "manifest.jsonl"
    assert sorted(renames[1:]) == sorted(images_in(out))
    assert len(renames) == 5
    recorded = [entry["path"] for entry in read_manifest(out / "manifest.jsonl").entries]
    assert sorted(recorded) == sorted(renames[1:])


def test_this_process_executor_runs_a_batch_as_the_worker_does(tmp_path):
    data = make_tree(tmp_path / "data", ("a.png", "b.png"))
    paths = sorted(data.iterdir())
    batch = tuple(Task(str(path), path.name, ((0, f"{path.stem}__k0.png"),)) for path in paths)
    executor = ThisProcess(default_spec(tmp_path / "here"))
    with executor:
        assert (executor.processes, executor.ready()) == (0, False)
        future = executor.submit(batch)
    expected = Worker(default_spec(tmp_path / "worker"))(batch)
    assert future.done() and not future.cancel() and not future.cancelled()
    assert [r.written for r in future.result()] == [r.written for r in expected]
    assert snapshot(tmp_path / "here") == snapshot(tmp_path / "worker")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_uses_no_deprecated_api(tmp_path, jobs):
    data = make_tree(tmp_path / "data", [f"f{i:02d}.png" for i in range(20)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        summary = augcore.run([data], tmp_path / "out", per_image=2, seed=0, jobs=jobs)
    assert summary.written == 40

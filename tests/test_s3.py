"""The job on a real S3 API: s3fs against a moto server on 127.0.0.1 (no network beyond it).

What an object store adds over a local folder, checked on bytes: outputs published by one
put each and equal to a local run's; the lock object refused by a conditional put (HTTP 412);
the manifest merged and its fragments gone; replay and resume through ``s3://`` URLs; the same
bucket written by ``--executor dask`` (workers receive the storage options with their tasks).
"""

from __future__ import annotations

import json

import boto3
import pytest
import s3fs
from moto.server import ThreadedMotoServer
from test_dask import NAMES, SIZES
from test_job import make_image, snapshot

import augcore
from augcore.job.remote import FRAGMENTS


@pytest.fixture(scope="module")
def s3():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **credentials
        ).create_bucket(Bucket="augcore")
        options = {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
        yield s3fs.S3FileSystem(**options), options
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The inputs on disk, and what a local run of them into a local folder writes."""
    data = tmp_path_factory.mktemp("inputs")
    for seed, name in enumerate(NAMES):
        make_image(data / name, size=SIZES[seed % len(SIZES)], seed=seed)
    out = tmp_path_factory.mktemp("local") / "out"
    augcore.run([data], out, per_image=2, seed=3, jobs=2)
    return data, snapshot(out)


def _bucket(fs, prefix: str) -> dict[str, bytes]:
    start = len(prefix) + 1
    return {path[start:]: fs.cat_file(path) for path in sorted(fs.find(prefix))}


def _without_sources(manifest: bytes) -> list[dict]:
    entries = [json.loads(line) for line in manifest.splitlines()[1:]]
    return [{k: v for k, v in entry.items() if k != "source"} for entry in entries]


def test_s3_sources_and_output_give_a_local_runs_bytes_and_replay(s3, local_run):
    fs, options = s3
    data, expected = local_run
    for name in NAMES:
        fs.pipe_file(f"augcore/photos/{name}", (data / name).read_bytes())
    run = {"per_image": 2, "seed": 3, "storage_options": options}
    summary = augcore.run(["s3://augcore/photos"], "s3://augcore/out", jobs=2, **run)
    assert summary.written == len(NAMES) * 2 and summary.out == "s3://augcore/out"
    written = _bucket(fs, "augcore/out")
    manifest = written.pop("manifest.jsonl")  # no lock object, no fragment left
    assert written == {k: v for k, v in expected.items() if k != "manifest.jsonl"}
    assert _without_sources(manifest) == _without_sources(expected["manifest.jsonl"])
    assert augcore.replay("s3://augcore/out", storage_options=options).ok
    again = augcore.run(["s3://augcore/photos"], "s3://augcore/out", **run)
    assert (again.written, again.already_there) == (0, len(NAMES) * 2)

    fs.pipe_file("augcore/out/.augcore-lock", b"host=elsewhere pid=1\n")
    with pytest.raises(augcore.OutputConflictError, match="another augcore run holds"):
        augcore.run(["s3://augcore/photos"], "s3://augcore/out", **run)
    fs.rm_file("augcore/out/.augcore-lock")

    dask = augcore.run(["s3://augcore/photos"], "s3://augcore/dask", jobs=2, executor="dask", **run)
    assert dask.written == len(NAMES) * 2
    assert _bucket(fs, "augcore/dask") == _bucket(fs, "augcore/out")
    assert not [path for path in fs.find("augcore") if f"/{FRAGMENTS}/" in path]

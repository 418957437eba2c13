"""augcore.calls: the identities pipeline(image) draws from never repeat across copies.

Copies are made the way users make them: pickled into other processes (multiprocessing) and
into PyTorch DataLoader workers.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading

import pytest

from augcore.calls import CALL_KEY, CallIdentities, Identity


def _take(calls: CallIdentities, count: int) -> list[Identity]:
    return [calls.next() for _ in range(count)]


def test_same_seed_same_sequence() -> None:
    first, second = CallIdentities(5), CallIdentities(5)
    assert _take(first, 4) == _take(second, 4) == [Identity(5, CALL_KEY, k) for k in range(4)]


def test_without_a_seed_each_instance_draws_its_own() -> None:
    seeds = {CallIdentities().seed for _ in range(4)}
    assert len(seeds) == 4 and all(0 <= seed < 2**64 for seed in seeds)


def test_a_copy_in_the_same_process_continues_the_count() -> None:
    calls = CallIdentities(1)
    _take(calls, 3)
    copy = pickle.loads(pickle.dumps(calls))
    assert copy.next() == Identity(1, CALL_KEY, 3)


def test_threads_get_distinct_k() -> None:
    calls = CallIdentities(2)
    taken: list[Identity] = []

    def work() -> None:
        taken.extend(_take(calls, 500))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(identity.k for identity in taken) == list(range(2000))


def _next_in_child(calls: CallIdentities) -> list[Identity]:
    return _take(calls, 2)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_copies_in_other_processes_never_repeat(method: str) -> None:
    calls = CallIdentities(3)
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        results = [pool.apply_async(_next_in_child, (calls,)) for _ in range(2)]
        children = [result.get(timeout=60) for result in results]
    keys = {identity.key for child in children for identity in child}
    assert all(key.startswith(f"{CALL_KEY}/process-") for key in keys)
    for child in children:
        assert [identity.k for identity in child] == [0, 1]
    if len(keys) == 2:  # two different pool processes took the tasks
        assert children[0][0] != children[1][0]
    assert calls.next() == Identity(3, CALL_KEY, 0)  # the parent's count is its own


class _Identities:
    """A map-style dataset whose items are the identities a pipeline would draw."""

    def __init__(self, calls: CallIdentities) -> None:
        self.calls = calls

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> tuple[int, str, int]:
        return tuple(self.calls.next())


def _loader_epochs(seed: int, epochs: int) -> list[list[tuple[str, int]]]:
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    from torch.utils.data import DataLoader

    torch.manual_seed(seed)
    loader = DataLoader(
        _Identities(CallIdentities(9)), batch_size=None, num_workers=2, collate_fn=None
    )
    return [[(key, int(k)) for _, key, k in loader] for _ in range(epochs)]


def test_dataloader_workers_and_epochs_never_repeat_and_replay_with_torch_seed() -> None:
    epochs = _loader_epochs(seed=0, epochs=2)
    flat = [identity for epoch in epochs for identity in epoch]
    assert len(set(flat)) == len(flat) == 16
    keys = {key for key, _ in flat}
    assert len(keys) == 4  # 2 workers x 2 epochs, each its own key
    assert all(key.startswith(f"{CALL_KEY}/torch-worker-") for key in keys)
    assert _loader_epochs(seed=0, epochs=2) == epochs
    assert _loader_epochs(seed=1, epochs=1)[0] != epochs[0]

"""Where every random number in augcore comes from.

All randomness is counter-based: a draw is a pure hash of its coordinates

    (seed, key, k, domain, draw)

where ``seed`` is the run's seed, ``key`` the source's stable string key (hashed by
``key_hashes`` from its code points, never with Python's salted ``hash()``), ``k`` the variant
index, ``domain`` the draw domain of a chain step (step m of the chain in pre-order draws its
parameters in domain 2m and its gate in 2m + 1; see ``augcore.chain``) and ``draw`` the number
of the quantity inside that domain (chosen by the transform: 0 for the angle, 1 for the
next...). ``output_roots`` hashes (seed, key, k) into one root per output; ``Draws.for_domain``
mixes a domain into the roots of a batch.
The hash is splitmix64's finaliser applied in a chain, computed in numpy ``uint64`` arithmetic
over whole arrays of outputs at once; for one output (``augment``, ``pipeline(image)``) the
same hash runs on Python ints (``key_hash``, ``output_root``, ``OneDraws``), about ten times
cheaper than numpy on 1-element arrays and bit for bit the same numbers (tests/test_seeding.py).

Consequences: an output's parameters depend only on its own identity, never on batch size,
order, thread count or the other images in a run; there is no Generator object per output and
the global numpy RNG is never touched. Which numbers a given version draws is pinned by
tests/test_pinned.py; docs/glossary.md says what may change them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from augcore._deprecation import renamed_attributes, warn_renamed
from augcore.errors import AugmentOptionError
from augcore.validation import require_int

_MASK64 = (1 << 64) - 1
MAX_SEED = _MASK64  #: seeds are integers in [0, MAX_SEED]
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_GOLDEN_U64 = np.uint64(_GOLDEN)
_TO_UNIT = 2.0**-53
_TO_UNIT32 = 2.0**-32
_KEY_DOMAIN = 0x6B6579  # "key": keeps key hashes apart from the other uses of splitmix64


def mix64_int(value: int) -> int:
    """splitmix64 of a Python int (used for per-domain and per-draw constants)."""
    z = (value + _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64 of every element of a ``uint64`` array (wrapping arithmetic, new array)."""
    with np.errstate(over="ignore"):
        z = values + _GOLDEN_U64
        z ^= z >> np.uint64(30)
        z *= _MUL1
        z ^= z >> np.uint64(27)
        z *= _MUL2
        z ^= z >> np.uint64(31)
    return z


def key_hashes(keys: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hashes of source keys, shape (len(keys),) ``uint64``.

    Defined on the key's Unicode code points, so it is the same on every machine and in every
    process (unlike Python's salted ``hash()``): h = splitmix64(len(key) ^ 0x6B6579), then for
    each pair of code points (a, b) of the key (zero-padded to an even count),
    h = splitmix64(h ^ (a << 32 | b)). Computed column by column over all keys at once, so
    there is no Python loop per key.
    """
    keys = list(keys)
    if not all(issubclass(kind, str) for kind in set(map(type, keys))):
        bad = next(key for key in keys if not isinstance(key, str))
        raise AugmentOptionError(f"source keys must be str, got {type(bad).__name__}: {bad!r}")
    lengths = np.fromiter(map(len, keys), dtype=np.uint64, count=len(keys))
    hashes = mix64(lengths ^ np.uint64(_KEY_DOMAIN))
    width = int(lengths.max(initial=0))
    if width == 0:
        return hashes
    points = np.zeros((len(keys), width + width % 2), dtype=np.uint64)
    # numpy pads with NULs (and strips trailing ones): the lengths keep "a" and "a\0" apart.
    points[:, :width] = np.array(keys, dtype=f"<U{width}").view(np.uint32).reshape(-1, width)
    for column in range(0, points.shape[1], 2):
        pair = (points[:, column] << np.uint64(32)) | points[:, column + 1]
        # Only a key's own code points count: its hash never depends on longer keys beside it.
        hashes = np.where(lengths > column, mix64(hashes ^ pair), hashes)
    return hashes


# mix64_int of the small numbers that draw numbers and domains are: looked up, not hashed, by
# the one-output path where these hashes are most of the cost of a draw.
_SMALL_MIXES = tuple(mix64_int(number) for number in range(256))


def _mixed(number: int) -> int:
    return _SMALL_MIXES[number] if 0 <= number < 256 else mix64_int(number)


def key_hash(key: str) -> int:
    """``key_hashes`` of one key, computed on Python ints (cached: keys repeat in a loop)."""
    if not isinstance(key, str):
        raise AugmentOptionError(f"source keys must be str, got {type(key).__name__}: {key!r}")
    return _key_hash(key)


@functools.lru_cache(maxsize=4096)
def _key_hash(key: str) -> int:
    points = [ord(char) for char in key]
    if len(points) % 2:
        points.append(0)
    value = mix64_int(len(key) ^ _KEY_DOMAIN)
    for column in range(0, len(points), 2):
        value = mix64_int(value ^ (points[column] << 32 | points[column + 1]))
    return value


def check_seed(seed: int, error: type[Exception] = AugmentOptionError) -> int:
    """Seeds are integers in [0, 2**64); bools and floats are refused so typos do not pass."""
    return require_int("seed", seed, minimum=0, maximum=MAX_SEED, error=error)


def output_roots(seed: int, hashes: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """The root hash of each output identity (seed, key hash, k), shape (n,) ``uint64``."""
    base = mix64(hashes.astype(np.uint64) ^ np.uint64(mix64_int(check_seed(seed))))
    return mix64(base ^ mix64(ks.astype(np.uint64)))


def output_root(seed: int, key: int, k: int) -> int:
    """``output_roots`` of one output (seed, key hash, k), on Python ints; seed and k checked
    by the caller."""
    return mix64_int(_source_root(seed, key) ^ mix64_int(k))


@functools.lru_cache(maxsize=4096)
def _source_root(seed: int, key: int) -> int:
    """The (seed, key hash) part of ``output_root``: the same for every call of one loop."""
    return mix64_int(key ^ mix64_int(seed))


class Draws:
    """The random draws of one draw domain for a batch of n outputs.

    Every method takes a ``draw`` number: the same draw number always gives the same value for
    the same output, so a transform must use a distinct number for each quantity it samples.
    """

    __slots__ = ("_hashes",)

    def __init__(self, hashes: np.ndarray) -> None:
        """``hashes``: one ``uint64`` per output, already mixed with its domain."""
        self._hashes = hashes

    @classmethod
    def for_domain(cls, roots: np.ndarray, domain: int) -> Draws:
        """Draws of ``domain`` for the outputs whose ``output_roots`` are ``roots``."""
        return cls(mix64(roots ^ np.uint64(mix64_int(domain))))

    @classmethod
    def for_step(cls, roots: np.ndarray, step: int) -> Draws:
        """Deprecated name of ``for_domain`` (its argument was always a domain number)."""
        warn_renamed("Draws.for_step", "Draws.for_domain")
        return cls.for_domain(roots, step)

    @property
    def n(self) -> int:
        return int(self._hashes.shape[0])

    def bits(self, draw: int) -> np.ndarray:
        """64 random bits per output, shape (n,) ``uint64``."""
        return mix64(self._hashes ^ np.uint64(mix64_int(draw)))

    def uniform(self, draw: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """Uniform floats in [low, high], shape (n,) float64.

        With the defaults the values are in [0, 1) exactly (multiples of 2**-53); scaled to
        [low, high], rounding can reach ``high``, and low == high gives exactly ``low``.
        """
        unit = (self.bits(draw) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
        if low == 0.0 and high == 1.0:
            return unit
        return low + (high - low) * unit

    def bernoulli(self, draw: int, p: float) -> np.ndarray:
        """True with probability exactly p: u < p with u in [0, 1), so p=0 never, p=1 always."""
        return self.uniform(draw) < p

    def integers(self, draw: int, low: int, high: int) -> np.ndarray:
        """Integers in [low, high] inclusive, shape (n,) int64."""
        span = high - low + 1
        picks = np.floor(self.uniform(draw) * span).astype(np.int64)
        return low + np.minimum(picks, span - 1)

    def seeds(self, draw: int) -> np.ndarray:
        """53-bit integer seeds (exact in JSON everywhere) for per-pixel noise, shape (n,) int64."""
        return (self.bits(draw) >> np.uint64(11)).astype(np.int64)


class OneDraws(Draws):
    """``Draws`` of one domain for ONE output, hashed on Python ints.

    Every method returns what ``Draws`` returns for a batch holding only this output
    (1-element arrays of the same dtype and bits), so transforms cannot tell the two apart.
    """

    __slots__ = ("_hash",)

    def __init__(self, hash_: int) -> None:
        """``hash_``: the output's root already mixed with the domain (``for_domain``)."""
        self._hash = hash_

    @classmethod
    def for_domain(cls, roots: int, domain: int) -> OneDraws:  # type: ignore[override]
        """Draws of ``domain`` for the one output whose ``output_root`` is ``roots``."""
        return cls(mix64_int(roots ^ _mixed(domain)))

    @property
    def n(self) -> int:
        return 1

    def _unit(self, draw: int) -> float:
        return (mix64_int(self._hash ^ _mixed(draw)) >> 11) * _TO_UNIT

    # Scalar forms, for a transform's optional one-output hooks (``sample_one``): the value
    # the array method of the same name holds, as a Python number.
    def uniform_value(self, draw: int, low: float = 0.0, high: float = 1.0) -> float:
        """``uniform(draw, low, high)[0]`` as a float (same bits)."""
        unit = self._unit(draw)
        if low == 0.0 and high == 1.0:
            return unit
        return low + (high - low) * unit

    def bernoulli_value(self, draw: int, p: float) -> bool:
        """``bernoulli(draw, p)[0]`` as a bool."""
        return self._unit(draw) < p

    def bits(self, draw: int) -> np.ndarray:
        return np.array([mix64_int(self._hash ^ _mixed(draw))], dtype=np.uint64)

    def uniform(self, draw: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        return np.array([self.uniform_value(draw, low, high)])

    def bernoulli(self, draw: int, p: float) -> np.ndarray:
        return np.array([self.bernoulli_value(draw, p)])

    def integers(self, draw: int, low: int, high: int) -> np.ndarray:
        span = high - low + 1
        return np.array([low + min(math.floor(self._unit(draw) * span), span - 1)], np.int64)

    def seeds(self, draw: int) -> np.ndarray:
        return np.array([mix64_int(self._hash ^ _mixed(draw)) >> 11], dtype=np.int64)


def standard_normal_field(seeds: np.ndarray, count: int) -> np.ndarray:
    """``count`` standard normal values per seed, shape (len(seeds), count) float32.

    Each value is a pure function of (seed, index), so a noise field is reproduced from the
    53-bit seed recorded for its output alone (Box-Muller on the two 32-bit halves of a hash).
    """
    offsets = mix64(np.arange(count, dtype=np.uint64))
    bits = mix64(seeds.astype(np.uint64)[:, None] ^ offsets[None, :])
    u1 = ((bits >> np.uint64(32)).astype(np.float64) + 1.0) * _TO_UNIT32  # (0, 1]
    u2 = (bits & np.uint64(0xFFFFFFFF)).astype(np.float64) * _TO_UNIT32
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


__getattr__ = renamed_attributes(__name__, {"output_streams": ("output_roots", output_roots)})

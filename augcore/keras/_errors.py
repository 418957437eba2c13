"""The two errors only the Keras drop-in raises, where no class in ``augcore.errors`` fits.

Every error augcore.keras raises is an ``augcore.AugcoreError`` that is also the builtin Keras
raised in the same place, with Keras's message first (scripts and tests match on it) and, where
it helps, one augcore sentence after it.
"""

from __future__ import annotations

from augcore.errors import AugcoreError


class BatchIndexError(AugcoreError, ValueError, IndexError):
    """``iterator[i]`` past the last batch.

    Keras raises ValueError; an IndexError too, so the sequence protocol and code written against
    earlier augcore versions still see the end of the data.
    """


class ArgumentTypeError(AugcoreError, TypeError):
    """An argument or a DataFrame column holds values of a type Keras refuses with TypeError."""


class FolderNotFoundError(AugcoreError, FileNotFoundError):
    """``flow_from_directory`` got a path that is not a folder (raised as ``os.listdir`` does)."""

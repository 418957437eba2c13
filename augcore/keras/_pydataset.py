"""Make the iterators Keras 3 ``PyDataset``s, so ``model.fit(datagen.flow(x, y))`` works.

Keras 3's ``fit`` accepts a Python object as a data source only if it is an instance of
``keras.utils.PyDataset`` (``keras/src/trainers/data_adapters/__init__.py``). An iterator
created while Keras is imported is therefore built from a subclass that also derives from
``PyDataset``: made once per iterator class, on first use, and cached.

Rule: augcore.keras never imports Keras itself. Importing Keras loads its backend (seconds, and
side effects such as creating ``~/.keras``), which scripts that only save augmented images must
not pay. Any script that trains a model has imported Keras before it creates its iterators; an
iterator created before ``import keras`` is a plain iterator: ``fit`` then says "Unrecognized
data type", and the iterator's repr in that message says why (docs/migrating-from-keras.md).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_PY_DATASET_MODULE = "keras.src.trainers.data_adapters.py_dataset_adapter"

_subclasses: dict[type, type] = {}
_lock = threading.Lock()


def keras_py_dataset() -> type | None:
    """Keras's ``PyDataset`` class if Keras is already imported, else None (never imports)."""
    module: Any = sys.modules.get(_PY_DATASET_MODULE)
    return getattr(module, "PyDataset", None)


def with_py_dataset(cls: type) -> type:
    """``cls``, or its cached subclass that is also a ``PyDataset`` when Keras is imported.

    The subclass keeps ``cls``'s name and module and adds nothing: ``cls`` comes first in the
    method order, so its ``__iter__``, ``__next__``, ``__getitem__``, ``__len__`` and
    ``on_epoch_end`` win, and ``PyDataset`` contributes ``num_batches``, ``on_epoch_begin`` and
    the ``workers`` / ``use_multiprocessing`` / ``max_queue_size`` properties.
    """
    py_dataset = keras_py_dataset()
    if py_dataset is None or issubclass(cls, py_dataset):
        return cls
    with _lock:
        subclass = _subclasses.get(cls)
        if subclass is None:
            namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
            subclass = type(cls)(cls.__name__, (cls, py_dataset), namespace)
            subclass.__doc__ = cls.__doc__
            _subclasses[cls] = subclass
    return subclass

"""The hooks augcore calls on its plugins, and the marker plugins implement them with.

There is one hook. A plugin is any module (or object) with a function named
``augcore_transforms`` decorated with ``@augcore.hookimpl``; third-party plugins are found
through an entry point in group ``"augcore"`` that points at such a module.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

PROJECT_NAME = "augcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def augcore_transforms() -> Iterable[type]:  # type: ignore[empty-body]
    """Return the ``augcore.Transform`` subclasses this plugin provides.

    Called once per plugin manager. Each class needs a unique ``name`` (what configs use) and
    declares its parameters as ``params``; see ``augcore.transform`` for the contract.

    Example, in ``augcore_example_plugin/__init__.py``, with
    ``[project.entry-points.augcore] example = "augcore_example_plugin"`` in its pyproject::

        import numpy as np
        import augcore

        class Invert(augcore.PixelTransform):
            \"\"\"Photographic negative: 255 - x for uint8, 1 - x for float images.\"\"\"

            name = "invert"

            def apply(self, images, params):
                top = 255 if images.dtype == np.uint8 else 1.0
                return (top - images).astype(images.dtype)

        @augcore.hookimpl
        def augcore_transforms():
            return [Invert]
    """

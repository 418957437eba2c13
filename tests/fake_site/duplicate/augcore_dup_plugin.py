"""A plugin that reuses a built-in transform name."""

from augcore.plugins.geometric import Rotate

import augcore


class MyRotate(Rotate):
    """Rotate again, under the same name."""


@augcore.hookimpl
def augcore_transforms():
    return [MyRotate]

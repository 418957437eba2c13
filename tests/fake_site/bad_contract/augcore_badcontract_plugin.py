"""A plugin that returns something that is not a Transform class."""

import augcore


@augcore.hookimpl
def augcore_transforms():
    return [len]

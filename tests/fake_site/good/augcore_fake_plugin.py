"""A third-party plugin as pytest sees it: found through its entry point, never installed."""

from __future__ import annotations

import numpy as np

import augcore


class Posterize(augcore.PixelTransform):
    """Keep only the top ``bits`` bits of each uint8 value (float images: 2**bits levels)."""

    name = "fake_posterize"
    params = (augcore.Param("bits", [2, 6], "range", "bits", "bits kept", minimum=1, maximum=8),)

    def sample(self, draws, shape):
        low, high = self.options["bits"]
        return {"bits": draws.integers(0, int(low), int(high))}

    def apply(self, images, params):
        shifts = (8 - params["bits"]).reshape((-1,) + (1,) * (images.ndim - 1))
        if images.dtype == np.uint8:
            return ((images >> shifts) << shifts).astype(np.uint8)
        levels = 2.0 ** params["bits"].reshape(shifts.shape)
        return (np.floor(images * levels) / levels).astype(images.dtype)


@augcore.hookimpl
def augcore_transforms():
    return [Posterize]

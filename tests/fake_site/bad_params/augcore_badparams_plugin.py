"""A plugin that loads fine but samples float32 parameters, which JSON would not round-trip."""

import augcore


class Gain(augcore.PixelTransform):
    """Multiply by a gain (sampled in float32: a contract violation)."""

    name = "badparams_gain"

    def sample(self, draws, shape):
        return {"gain": draws.uniform(0, 0.5, 1.5).astype("float32")}

    def apply(self, images, params):
        return images


@augcore.hookimpl
def augcore_transforms():
    return [Gain]

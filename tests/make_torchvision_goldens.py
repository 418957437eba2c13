"""Write the torchvision golden fixtures in tests/data/torchvision/ from real torchvision.

Run once, by hand, with torch and torchvision installed (never a dependency of augcore or of its
tests; the pinned versions are those the fixtures were made with):

    pip install torch==2.14.1 torchvision==0.29.1
    python tests/make_torchvision_goldens.py

``photometric.npz`` stores its own input images next to torchvision v2's tensor-kernel outputs
(uint8, and float32 for the noise image and the jitters) for pinned parameters;
``policies.json`` stores the op sets, magnitude tables, signs and probabilities of RandAugment,
TrivialAugmentWide and AutoAugment (ImageNet), read from torchvision's own classes. The tests
need neither torch nor a random generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

OUT_DIR = Path(__file__).parent / "data" / "torchvision"
SAMPLES = Path(__file__).parents[1] / "augcore" / "data" / "samples"

HUES = [-0.5, -0.31, -0.1, 0.0, 0.05, 0.25, 0.49]
SATURATIONS = [0.0, 0.4, 1.0, 1.5, 2.0]
GAMMAS = [(0.4, 1.0), (1.0, 1.0), (1.7, 1.0), (0.8, 1.25)]
BLURS = [(1, 0.5), (3, 0.8), (5, 1.5), (9, 1.5), (7, 3.0), (11, 0.3)]
# color_jitter in a recorded order: (order, brightness, contrast, saturation, hue).
JITTERS = [
    ((0, 1, 2, 3), 1.3, 0.7, 1.4, 0.1),
    ((3, 2, 1, 0), 0.6, 1.5, 0.5, -0.2),
    ((2, 0, 3, 1), 1.1, 1.2, 0.0, 0.45),
]
KERNELS = {
    "brightness": lambda image, factor: F.adjust_brightness(image, brightness_factor=factor),
    "contrast": lambda image, factor: F.adjust_contrast(image, contrast_factor=factor),
    "saturation": lambda image, factor: F.adjust_saturation(image, saturation_factor=factor),
    "hue": lambda image, factor: F.adjust_hue(image, hue_factor=factor),
}
# Geometric policy operations (torchvision op, signed magnitude), nearest, filled with 0.
GEOMETRIC_OPS = [
    ("ShearX", 0.3), ("ShearX", -0.2), ("ShearY", 0.25), ("TranslateX", 7.9),
    ("TranslateX", -5.0), ("TranslateY", 4.0), ("Rotate", 30.0), ("Rotate", -17.5),
]  # fmt: skip
POLICY_SIZE = (224, 160)  # (height, width) the translate tables are made for


def inputs() -> dict[str, np.ndarray]:
    texture = np.asarray(Image.open(SAMPLES / "texture.jpg").convert("RGB"))[:48, :64]
    shapes = np.asarray(Image.open(SAMPLES / "shapes.png").convert("RGB"))[:40, :56]
    noise = np.random.default_rng(20261129).integers(0, 256, (24, 30, 3), dtype=np.uint8)
    return {"texture": texture, "shapes": shapes, "noise": noise}


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.copy()).permute(2, 0, 1)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.permute(1, 2, 0).contiguous().numpy()


def photometric() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, image in inputs().items():
        out[f"input/{name}"] = image
        for dtype in ("uint8", "float32") if name == "noise" else ("uint8",):
            tensor = to_tensor(image)
            if dtype == "float32":
                tensor = tensor.float() / 255.0
            for hue in HUES:
                out[f"hue/{name}/{dtype}/{hue}"] = to_numpy(F.adjust_hue(tensor, hue))
            for factor in SATURATIONS:
                result = F.adjust_saturation(tensor, factor)
                out[f"saturation/{name}/{dtype}/{factor}"] = to_numpy(result)
            for gamma, gain in GAMMAS:
                result = F.adjust_gamma(tensor, gamma, gain)
                out[f"gamma/{name}/{dtype}/{gamma}/{gain}"] = to_numpy(result)
            for size, sigma in BLURS:
                result = F.gaussian_blur(tensor, [size, size], [sigma, sigma])
                out[f"blur/{name}/{dtype}/{size}/{sigma}"] = to_numpy(result)
        # The order rule is checked in float32, where no step rounds: every image, both dtypes.
        for dtype in ("uint8", "float32"):
            tensor = to_tensor(image) if dtype == "uint8" else to_tensor(image).float() / 255.0
            for index, (order, *factors) in enumerate(JITTERS):
                result = tensor
                for op in order:
                    result = KERNELS[list(KERNELS)[op]](result, factors[op])
                out[f"jitter/{name}/{dtype}/{index}"] = to_numpy(result)
    policy = v2.TrivialAugmentWide()
    texture = to_tensor(inputs()["texture"])
    for op, magnitude in GEOMETRIC_OPS:
        result = policy._apply_image_or_video_transform(
            texture, op, magnitude, interpolation=v2.InterpolationMode.NEAREST, fill={}
        )
        out[f"policy/texture/uint8/{op}/{magnitude}"] = to_numpy(result)
    return out


def policies() -> dict[str, object]:
    height, width = POLICY_SIZE

    def space(cls: type, bins: int) -> dict[str, object]:
        table: dict[str, object] = {"order": list(cls._AUGMENTATION_SPACE)}
        for op, (magnitudes, signed) in cls._AUGMENTATION_SPACE.items():
            values = magnitudes(bins, height, width)
            table[op] = {
                "signed": signed,
                "magnitudes": None if values is None else [float(v) for v in values],
            }
        return table

    auto = v2.AutoAugment(v2.AutoAugmentPolicy.IMAGENET)
    return {
        "torchvision": torchvision.__version__,
        "image_size": [height, width],
        "rand_augment": {"31": space(v2.RandAugment, 31), "10": space(v2.RandAugment, 10)},
        "trivial_augment": {"31": space(v2.TrivialAugmentWide, 31)},
        "auto_augment": {
            "space": space(v2.AutoAugment, 10),
            "imagenet": [[list(member) for member in pair] for pair in auto._policies],
        },
        "jitters": [list(jitter[0]) + list(jitter[1:]) for jitter in JITTERS],
    }


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_DIR / "photometric.npz", **photometric())
    text = json.dumps(policies(), indent=1, sort_keys=True)
    (OUT_DIR / "policies.json").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT_DIR} with torch {torch.__version__}, torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()

"""docs/targets.md runs as written: its Python blocks, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import augcore

GUIDE = Path(__file__).parents[1] / "docs" / "targets.md"


def test_the_targets_guide_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    assert len(blocks) == 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
    assert namespace["moved"].boxes.labels.tolist() == ["car"]


def test_the_targets_table_in_the_guide_is_a_valid_config(tmp_path: Path) -> None:
    (block,) = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), flags=re.S)
    (tmp_path / "chain.toml").write_text(block)
    pipeline = augcore.Pipeline.from_config(tmp_path / "chain.toml")
    assert pipeline.targets == augcore.TargetOptions(
        box_rule="ellipse", min_visibility=0.3, min_area=16, mask_fill=255
    )

"""The examples in the docstrings of the public entry points and in docs/glossary.md and the
groups section of docs/transforms.md run as written."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import augcore.chain
import augcore.pipeline
import augcore.stream

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.parametrize("module", [augcore.pipeline, augcore.stream, augcore.chain])
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def _python_blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_the_glossary_example_runs() -> None:
    (block,) = _python_blocks("glossary.md")
    exec(compile(block, "docs/glossary.md", "exec"), {})


def test_the_groups_example_in_transforms_md_runs() -> None:
    (block,) = [
        block for block in _python_blocks("transforms.md") if "group = augcore.OneOf(" in block
    ]
    exec(compile(block, "docs/transforms.md", "exec"), {})

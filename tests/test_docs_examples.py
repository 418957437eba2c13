"""The examples in the docstrings of the public entry points run as written.

(Every python block of README.md and docs/**/*.md, the glossary and transforms.md included,
runs in tests/test_docs.py.)"""

from __future__ import annotations

import doctest

import pytest

import augcore.adapters
import augcore.chain
import augcore.pipeline
import augcore.stream


@pytest.mark.parametrize(
    "module", [augcore.pipeline, augcore.stream, augcore.chain, augcore.adapters]
)
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


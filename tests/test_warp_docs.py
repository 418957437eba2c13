"""The examples in the kernel's docstrings run as written and print what they show."""

from __future__ import annotations

import doctest

import pytest

import augcore.reduce
import augcore.warp


@pytest.mark.parametrize("module", [augcore.warp, augcore.reduce], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3
    assert result.failed == 0

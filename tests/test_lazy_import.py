"""``import augcore`` is lazy: it loads no heavy module, yet every public name resolves.

Checked in a fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import augcore

HEAVY = (
    "numpy",
    "PIL",
    "tqdm",
    "multiprocessing",
    "concurrent.futures",
    "pluggy",
    "keras",
    "augcore.audit",
    "augcore.job",
    "augcore.stream",
    "augcore.pipeline",
    "augcore.warp",
    "augcore.plugins.geometric",
)


def fresh(code: str) -> object:
    """The JSON that ``code`` prints, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_import_augcore_loads_no_heavy_module() -> None:
    loaded = fresh("import sys, json, augcore; print(json.dumps(sorted(sys.modules)))")
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY]
    assert heavy == []
    assert "augcore" in loaded


def test_the_export_table_and_all_agree() -> None:
    assert sorted(augcore._EXPORTS) == sorted(set(augcore.__all__) - {"__version__"})
    assert len(augcore.__all__) == len(set(augcore.__all__))


def test_every_public_name_resolves_after_a_plain_import() -> None:
    """``from augcore import X`` is the object defined in X's module, and X is in dir()."""
    code = (
        "import importlib, json, augcore\n"
        "rows = {}\n"
        "for name in augcore.__all__:\n"
        "    value = {}\n"
        "    exec(f'from augcore import {name} as value', value)\n"
        "    home = augcore._EXPORTS.get(name)\n"
        "    defined = getattr(importlib.import_module(home), name) if home else value['value']\n"
        "    rows[name] = [value['value'] is defined, value['value'] is getattr(augcore, name),\n"
        "                  name in dir(augcore)]\n"
        "print(json.dumps(rows))\n"
    )
    rows = fresh(code)
    assert sorted(rows) == sorted(augcore.__all__)
    assert {name: row for name, row in rows.items() if row != [True, True, True]} == {}


def test_submodules_and_builtin_plugins_are_attributes_after_a_plain_import() -> None:
    code = (
        "import json, augcore; "
        "print(json.dumps([augcore.plugins.geometric.Rotate.__name__, "
        "augcore.plugins.canvas.__name__, augcore.manifest.__name__, "
        "augcore.warp.warp_affine is augcore.warp_affine]))"
    )
    assert fresh(code) == ["Rotate", "augcore.plugins.canvas", "augcore.manifest", True]


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'no_such_thing'"):
        augcore.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError, match="'no_such_module'"):
        augcore.plugins.no_such_module  # noqa: B018
    with pytest.raises(ImportError):
        exec("from augcore import no_such_thing")


def test_a_one_process_run_imports_neither_multiprocessing_nor_tqdm(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for value in range(3):
        Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(folder / f"{value}.png")
    code = (
        "import json, sys, augcore\n"
        f"augcore.run([{str(folder)!r}], {str(tmp_path / 'out')!r}, per_image=2, seed=0, "
        "jobs=1, quiet=True)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('multiprocessing', 'tqdm'))))\n"
    )
    assert fresh(code) == []
    assert len(list((tmp_path / "out").glob("*.png"))) == 6

"""`nlu` and `recs` import their public names on first use, and say which names they lack."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

import nlu
import recs


def test_importing_nlu_and_recs_loads_no_torch() -> None:
    code = "import sys, nlu, recs; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("package", [nlu, recs])
def test_every_public_name_is_listed_and_an_unknown_one_is_refused(package: ModuleType) -> None:
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match=rf"module '{package.__name__}' has no attribute"):
        package.not_a_name  # noqa: B018

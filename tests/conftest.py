import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "fixtures"))


@pytest.fixture(scope="session")
def fixture_data():
    """The fixture data at the absolute paths the recordings carry (/tmp/replay-fixtures/data)."""
    from paths import CANONICAL_DATA, install_data

    install_data()
    return Path(CANONICAL_DATA)


@pytest.fixture(scope="session")
def recorded_out():
    """The recordings save into /tmp/replay-fixtures/out; the unmodified recording needs it to exist."""
    out = Path("/tmp/replay-fixtures/out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out

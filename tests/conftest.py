import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "fixtures"))


@pytest.fixture(scope="session", autouse=True)
def paraview_settings_of_its_own():
    """pvbatch reads the user's ParaView settings (the colour palette among them) and saves settings into them on
    exit: every run of the suite gets a settings folder of its own (ParaView honours XDG_CONFIG_HOME), so neither
    the machine's settings change a picture nor the tests change the machine's. Tests that want a whole home of
    their own drop the variable (pv.home_env)."""
    before = os.environ.get("XDG_CONFIG_HOME")
    folder = tempfile.mkdtemp(prefix="replay-tests-config-")
    os.environ["XDG_CONFIG_HOME"] = folder
    yield Path(folder)
    if before is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = before
    shutil.rmtree(folder, ignore_errors=True)


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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's chromium, headless, driven by chromedriver (the gallery's and verify's report pages)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", "--window-size=1600,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()

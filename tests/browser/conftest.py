"""A headless Chromium for the explorer's browser tests (Selenium + Debian's chromium-driver).

Without Chromium, chromedriver or Selenium the tests skip, saying how to enable them; with
GNNVIZ_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure instead.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from gnnviz import env

ENABLE = (
    "browser tests need Chromium, chromedriver and Selenium: `apt-get install -y chromium chromium-driver` "
    "and `pip install -e '.[dev]'`; GNNVIZ_REQUIRE_BROWSER=1 turns this skip into a failure"
)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1400,900",
    # No GPU here: WebGL runs on SwiftShader. Without this flag Chromium still falls back to it but
    # logs a deprecation warning on every context.
    "--enable-unsafe-swiftshader",
)  # fmt: skip


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium():
    """(webdriver module, chromium path, chromedriver path), or skip/fail saying how to get them."""
    missing = []
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
        missing.append("selenium")
    binary = _find("chromium", "chromium-browser", "google-chrome")
    driver = _find("chromedriver")
    if binary is None:
        missing.append("chromium")
    if driver is None:
        missing.append("chromedriver")
    if missing:
        if env.flag("GNNVIZ_REQUIRE_BROWSER"):
            pytest.fail(f"GNNVIZ_REQUIRE_BROWSER=1 but {', '.join(missing)} not found; {ENABLE}")
        pytest.skip(f"browser: {', '.join(missing)} not found; {ENABLE}")
    return webdriver, binary, driver


class Page:
    """One browser tab on one explorer page."""

    def __init__(self, driver):
        self.driver = driver

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait_ready(self, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.js("return document.body && document.body.dataset.ready")
            if state:
                return state
            time.sleep(0.05)
        status = self.js("return document.getElementById('status').textContent")
        raise AssertionError(f"page not ready after {timeout} s; status: {status}")

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def pixels(self, element_id: str) -> np.ndarray:
        """The element as drawn: [H, W, 3] uint8 from a screenshot of it."""
        from PIL import Image

        png = self.driver.find_element("id", element_id).screenshot_as_png
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def move_to_node(self, node: int, view: str = "graph") -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        p = self.js(f"return window.gnnvizExplorer.nodeOnPage({int(node)}, {view!r})")
        body = self.driver.find_element("tag name", "body")
        # Offsets count from the element's centre in Selenium 4.
        size = self.js("return [document.body.clientWidth, document.body.clientHeight]")
        ActionChains(self.driver).move_to_element_with_offset(
            body, round(p["x"] - size[0] / 2), round(p["y"] - size[1] / 2)
        ).perform()

    def click_node(self, node: int, view: str = "graph") -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        self.move_to_node(node, view)
        ActionChains(self.driver).click().perform()

    def select(self, element_id: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element("id", element_id)).select_by_value(value)


@pytest.fixture()
def open_page(chromium):
    """open_page(path, flags=()) -> Page, loaded from file:// and ready (or failed, with its message);
    every browser closed afterwards."""
    webdriver, binary, driver_path = chromium
    from selenium.webdriver.chrome.service import Service

    drivers, profiles = [], []

    def open_(html: Path, timeout: float = 60.0, flags: tuple[str, ...] = ()) -> Page:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS + tuple(flags):
            options.add_argument(flag)
        profiles.append(tempfile.mkdtemp(prefix="gnnviz-chromium-"))  # a new, empty profile per tab
        options.add_argument(f"--user-data-dir={profiles[-1]}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
        drivers.append(driver)
        driver.get(Path(html).resolve().as_uri())
        page = Page(driver)
        page.wait_ready(timeout)
        return page

    yield open_
    for d in drivers:
        d.quit()
    for p in profiles:
        shutil.rmtree(p, ignore_errors=True)

"""A headless Chromium for the explorer's browser tests (Selenium + Debian's chromium-driver).

Without Chromium, chromedriver or Selenium the tests skip, saying how to enable them; with
GNNVIZ_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure instead.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from gnnviz import env
from tests.browser.page import BasePage

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


class Page(BasePage):
    """One Chromium tab on one explorer page (Selenium)."""

    name = "chromium"

    def __init__(self, driver):
        self.driver = driver

    def js(self, script: str):
        return self.driver.execute_script(script)

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def png(self) -> bytes:
        return self.driver.get_screenshot_as_png()

    def move_to(self, x: int, y: int, click: bool = False) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        body = self.driver.find_element("tag name", "body")
        # Offsets count from the element's centre in Selenium 4.
        w, h = self.js("return [document.body.clientWidth, document.body.clientHeight]")
        chain = ActionChains(self.driver).move_to_element_with_offset(body, x - w // 2, y - h // 2)
        (chain.click() if click else chain).perform()

    def click(self, css: str) -> None:
        self.driver.find_element("css selector", css).click()

    def select(self, element_id: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element("id", element_id)).select_by_value(value)

    def type_into(self, element_id: str, text: str) -> None:
        """Clear the field and type ``text`` ("\\n" presses Enter)."""
        box = self.driver.find_element("id", element_id)
        box.clear()
        box.send_keys(text)

    def press_escape(self) -> None:
        self.driver.find_element("tag name", "body").send_keys("\ue00c")


@pytest.fixture(scope="session")
def firefox_paths():
    """(firefox, Xvfb) paths, or skip saying how to get them (a failure with GNNVIZ_REQUIRE_BROWSER=1,
    which .ci/run sets after installing both browsers)."""
    from tests.browser import firefox

    def missing(what: str) -> None:
        if env.flag("GNNVIZ_REQUIRE_BROWSER"):
            pytest.fail(f"GNNVIZ_REQUIRE_BROWSER=1 but {what}")
        pytest.skip(what)

    try:
        import websocket  # noqa: F401 - websocket-client, a dependency of Selenium
    except ImportError:
        missing("Firefox tests need websocket-client (`pip install -e '.[dev]'`)")
    found = firefox.find()
    if found is None:
        missing("Firefox tests need Firefox and Xvfb: `apt-get install -y firefox-esr xvfb`")
    return found


@pytest.fixture(params=["chromium", "firefox"])
def open_page(request):
    """open_page(path, webgl=True) -> a page object (``page.BasePage``) loaded from file:// and ready
    (or failed, with its message), in Chromium and again in Firefox; every browser, driver and
    display it started is ended afterwards, whatever the test did."""
    if request.param == "chromium":
        yield from _chromium_pages(request.getfixturevalue("chromium"))
    else:
        yield from _firefox_pages(request.getfixturevalue("firefox_paths"))


def _chromium_pages(chromium):
    webdriver, binary, driver_path = chromium
    from selenium.webdriver.chrome.service import Service

    drivers, profiles = [], []

    def open_(html: Path, timeout: float = 60.0, webgl: bool = True) -> Page:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS + (() if webgl else ("--disable-webgl", "--disable-3d-apis")):
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

    try:
        yield open_
    finally:
        for d in drivers:
            d.quit()
        for p in profiles:
            shutil.rmtree(p, ignore_errors=True)


def _firefox_pages(paths):
    from tests.browser.firefox import Firefox, FirefoxPage

    browsers = []

    def open_(html: Path, timeout: float = 60.0, webgl: bool = True) -> FirefoxPage:
        browsers.append(Firefox(*paths, webgl=webgl))
        page = FirefoxPage(browsers[-1])
        page.open(Path(html).resolve().as_uri())
        page.wait_ready(timeout)
        return page

    try:
        yield open_
    finally:
        for b in browsers:
            b.close()

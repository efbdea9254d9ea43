"""The operator console at `/`, in a real headless browser (Debian's chromium and
chromium-driver, driven by Selenium), at a phone's width: find a flag, kill it with a
reason, see its state change and the audit line; the kill is in FILE and over OFREP."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import TOKEN, required, until

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    webdriver = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if webdriver is None:
        required("selenium (tests/requirements.txt)")
    if not CHROMIUM or not CHROMEDRIVER:
        required("chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=412,915"):
        options.add_argument(argument)
    profile = tempfile.mkdtemp(prefix="flagcore-console-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


# The page swaps in freshly rendered rows every few seconds, so an element found a moment
# ago may be gone: every look finds it again, and retries when the swap came in between.


def fresh(look):
    for _ in range(20):
        try:
            return look()
        except StaleElementReferenceException:
            continue
    return look()


def row(driver, flag):
    return driver.find_element(By.CSS_SELECTOR, f'#flags tr[data-flag="{flag}"]')


def row_text(driver, flag):
    return fresh(lambda: row(driver, flag).text)


def click(driver, flag):
    fresh(lambda: row(driver, flag).find_element(By.CSS_SELECTOR, "button.act").click())


def button_label(driver, flag):
    return fresh(lambda: row(driver, flag).find_element(By.CSS_SELECTOR, "button.act").text)


def visible_flags(driver):
    def look():
        rows = driver.find_elements(By.CSS_SELECTOR, "#flags tbody tr.flag")
        return [r.get_attribute("data-flag") for r in rows if r.is_displayed()]
    return fresh(look)


def first_audit_line(driver):
    return fresh(lambda: driver.find_element(By.CSS_SELECTOR, "#audit li").text)


def waiter(driver, seconds=10):
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def test_kill_a_flag_from_the_console(example_server, browser):
    server = example_server
    wait = waiter(browser)
    browser.get(server.url + "/")
    assert browser.title == "flagcore console"
    assert "snapshot version 1207" in browser.find_element(By.ID, "version").text
    assert len(visible_flags(browser)) == 7

    # Find it.
    browser.find_element(By.ID, "search").send_keys("recommend")
    wait.until(lambda d: visible_flags(d) == ["recommendations"])
    assert "serving" in row_text(browser, "recommendations")
    assert "team-discovery" in row_text(browser, "recommendations")
    assert button_label(browser, "recommendations") == "Kill"

    # Without a token, or without a reason: refused in the page, nothing sent.
    click(browser, "recommendations")
    wait.until(lambda d: "token" in d.find_element(By.ID, "message").text)
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    click(browser, "recommendations")
    wait.until(lambda d: "reason is required" in d.find_element(By.ID, "message").text)
    assert server.audit_lines() == []

    # A wrong token: the server's 401, shown.
    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "reason").send_keys("Black Friday: recommender p99 at 4s")
    click(browser, "recommendations")
    wait.until(lambda d: d.find_element(By.ID, "message").text.startswith("401"))
    assert server.audit_lines() == []

    # Kill it.
    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    click(browser, "recommendations")
    wait.until(lambda d: "Killed recommendations (version 1208)" in d.find_element(By.ID, "message").text)
    wait.until(lambda d: "killed" in row(d, "recommendations").text)
    assert "by ana" in row_text(browser, "recommendations")
    assert "Black Friday: recommender p99 at 4s" in row_text(browser, "recommendations")
    assert button_label(browser, "recommendations") == "Revive"
    # The search still applies after the refresh.
    assert visible_flags(browser) == ["recommendations"]
    assert "ana killed recommendations (version 1208)" in first_audit_line(browser)
    assert "Black Friday: recommender p99 at 4s" in first_audit_line(browser)
    assert "1208" in browser.find_element(By.ID, "version").text

    # It landed: FILE, the audit, the snapshot and OFREP.
    assert server.audit_lines()[-1]["flag"] == "recommendations"
    assert server.snapshot()["flags"]["recommendations"]["enabled"] is False
    r = requests.post(f"{server.url}/ofrep/v1/evaluate/flags/recommendations", json={}, timeout=10)
    assert (r.json()["reason"], r.json()["value"]) == ("DISABLED", False)

    screenshots = os.environ.get("FLAGCORE_SCREENSHOTS")
    if screenshots:
        Path(screenshots).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(screenshots) / "console-killed.png"))

    # Revive it: no reason needed.
    click(browser, "recommendations")
    wait.until(lambda d: "serving" in row(d, "recommendations").text)
    assert button_label(browser, "recommendations") == "Kill"
    assert "ana revived recommendations (version 1209)" in first_audit_line(browser)
    assert [line["action"] for line in server.audit_lines()] == ["kill", "revive"]


def test_the_console_shows_a_kill_made_elsewhere(example_server, browser):
    server = example_server
    browser.get(server.url + "/")
    assert server.edit("payments-v2", "kill", "PSP outage").status_code == 200
    # The page refreshes itself every few seconds.
    waiter(browser, 15).until(lambda d: "killed" in row(d, "payments-v2").text)
    assert "PSP outage" in row_text(browser, "payments-v2")

"""Fixtures of the browser tests: the blog served by a real server (``erlen run`` on uvicorn,
as ``make run`` serves it) in a subprocess, a page of another site served by a second one, and
Debian's Chromium driven by Playwright. Every wait is bounded; servers are stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import typing
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BLOG_ROOT = ROOT / "examples" / "blog"
ERLEN = Path(sys.executable).with_name("erlen")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
#: The longest any single browser action or expectation may wait, in milliseconds.
TIMEOUT_MS = 10_000
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"The server did not answer {url} in {START_TIMEOUT}s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID, then SIGKILL if it has not exited in 10 seconds."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def start_server(
    command: list[str], cwd: Path, url: str, log: Path, **env_vars: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ERLEN_SKIP_DOTENV": "1", "PYTHONUNBUFFERED": "1", **env_vars}
    env.pop("ERLEN_APP", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_serving(process, url, log)
    except BaseException:
        stop(process)
        raise
    return process


@pytest.fixture(scope="session")
def blog_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The blog, served like ``make run`` does (uvicorn), with a fresh instance folder: its
    database and secret key are created by the first run."""
    folder = tmp_path_factory.mktemp("blog")
    instance = folder / "instance"
    port = free_port()
    command = [
        str(ERLEN),
        "--app",
        f"blog:create_app(instance_path={str(instance)!r})",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    # ERLEN_RUN_ASGI=1: uvicorn, as the Makefile's `run` does.
    process = start_server(command, BLOG_ROOT, f"{url}/", folder / "log", ERLEN_RUN_ASGI="1")
    assert (instance / "blog.sqlite").is_file()
    assert "SECRET_KEY" in (instance / "config.py").read_text()
    yield url
    stop(process)


@pytest.fixture(scope="session")
def other_site(tmp_path_factory: pytest.TempPathFactory, blog_url: str) -> Iterator[int]:
    """The port of a second local server, whose ``forged.html`` has a form posting to the
    blog: another origin (same-site at 127.0.0.1, cross-site at localhost)."""
    folder = tmp_path_factory.mktemp("other-site")
    (folder / "forged.html").write_text(
        "<!doctype html><title>Win a prize</title>"
        f'<form method="post" action="{blog_url}/create">'
        '<input name="title" value="forged post"><input name="body" value="x">'
        '<button id="send" type="submit">Claim</button></form>'
    )
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    url = f"http://127.0.0.1:{port}/forged.html"
    process = start_server(command, folder, url, folder.parent / "other-site.log")
    yield port
    stop(process)


# Module scope, not session: while Playwright's sync API is started, it leaves an asyncio loop
# marked as running in this thread, which would break asyncio.run() in the tests that follow.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}: `make test` installs it"
            " (apt-get install -y --no-install-recommends chromium)."
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS * 3
    )
    yield browser
    browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: typing.Any = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_page(
    browser: Browser, blog_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Page]]:
    """Make pages, each in a browser context of its own (its own cookies: another visitor).
    When the test fails, every page is saved as a screenshot in tests/browser/screenshots/."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make() -> Page:
        context = browser.new_context(base_url=blog_url)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    if request.node.stash.get(FAILED, False):
        SCREENSHOTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages):
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{number}.png"), full_page=True)
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()

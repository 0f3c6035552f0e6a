"""examples/flask-port in Chromium, served by uvicorn: a Flask app (Flask-Login, Flask-WTF with
its CSRF token, Flask-SQLAlchemy) running on erlen unmodified. Register, log in, add a note."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from .conftest import ERLEN, ROOT, TIMEOUT_MS, free_port, start_server, stop

PORT_ROOT = ROOT / "examples" / "flask-port"


@pytest.fixture(scope="module")
def port_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("flask-port")
    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(PORT_ROOT)]),
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'notes.sqlite'}",
        "FLASK_SECRET_KEY": "a-browser-test-secret-key-0123456789abcdef",
    }
    init = subprocess.run(
        [str(ERLEN), "init-db"],
        cwd=PORT_ROOT,
        env={**os.environ, **env, "ERLEN_FLASK_ALIAS": "1", "ERLEN_APP": "wsgi"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "wsgi:app", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    process = start_server(command, PORT_ROOT, f"{url}/auth/login", folder / "log", **env)
    yield url
    stop(process)


def test_register_log_in_and_add_a_note(browser: Browser, port_url: str) -> None:
    context = browser.new_context(base_url=port_url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")  # login_required: to the login page, with ?next=
        expect(page).to_have_url(f"{port_url}/auth/login?next=%2F")
        page.goto("/auth/register")
        page.fill("#username", "ada")
        page.fill("#password", "correct horse battery")
        page.click("button:has-text('Register')")
        expect(page.locator(".flash")).to_have_text("Registered: please log in.")
        page.fill("#username", "ada")
        page.fill("#password", "correct horse battery")
        page.click("button:has-text('Log in')")
        expect(page.locator("#user")).to_have_text("ada")
        page.fill("#text", "sent from <Chromium>")
        page.click("button:has-text('Add')")
        expect(page.locator("#notes li")).to_have_text(["sent from <Chromium>"])
        assert page.locator("input[name=csrf_token]").first.get_attribute("value")
        api = context.request.get("/api/notes")
        assert api.json() == {"user": "ada", "notes": ["sent from <Chromium>"]}
        forged = context.request.post("/", form={"text": "no token"})
        assert forged.status == 400  # Flask-WTF's CSRF check, on erlen
    finally:
        context.close()

"""The blog of examples/blog in a real browser (Debian's Chromium) against a real server."""

from __future__ import annotations

import itertools
import json
import re
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from .conftest import TIMEOUT_MS

expect.set_options(timeout=TIMEOUT_MS)

PASSWORD = "a long enough password"
_numbers = itertools.count(1)


def unique(name: str) -> str:
    """A username no other test uses (they share one server and database)."""
    return f"{name}{next(_numbers)}"


def register_and_log_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    expect(page).to_have_url(re.compile(r"/auth/register$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.locator(".flash.success")).to_have_text("Your account is ready: log in.")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flash.success")).to_have_text(f"Welcome back, {username}.")
    expect(page.locator("header.site .who")).to_have_text(username)


def open_live_index(page: Page) -> None:
    """Open the index and wait until its live feed is connected (subscribed)."""
    page.goto("/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def publish(page: Page, title: str, body: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill(body)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash.success")).to_have_text("Your post is published.")


def api_titles(blog_url: str) -> list[str]:
    with urllib.request.urlopen(f"{blog_url}/api/posts", timeout=5) as response:
        return [post["title"] for post in json.load(response)["posts"]]


def test_register_log_in_post_live_edit_delete_log_out(
    new_page: Callable[[], Page], blog_url: str
) -> None:
    author, reader = new_page(), new_page()
    register_and_log_in(author, unique("ada"))
    # The reader's page is open before the post exists, and is never reloaded.
    open_live_index(reader)
    reader.evaluate("window.notReloaded = true")

    title = unique("A post that arrives live ")
    publish(author, title, "Written in one page,\nread in another.")
    post = author.locator("article.post", has_text=title)
    expect(post.locator("h2")).to_have_text(title)

    live = reader.locator("article.post", has_text=title)
    expect(live.locator("h2")).to_have_text(title)
    expect(live.locator(".body")).to_have_text("Written in one page,\nread in another.")
    expect(live.locator(".edit")).to_have_count(0)  # not the reader's post
    assert reader.evaluate("window.notReloaded") is True
    assert reader.locator("article.post").first.locator("h2").inner_text() == title

    post.get_by_role("link", name="Edit").click()
    expect(author).to_have_url(re.compile(r"/\d+/edit$"))
    author.get_by_label("Title").fill(f"{title} (edited)")
    author.get_by_role("button", name="Save").click()
    expect(author.locator(".flash.success")).to_have_text("Your post is updated.")
    edited = author.locator("article.post h2", has_text=f"{title} (edited)")
    expect(edited).to_have_count(1)
    assert f"{title} (edited)" in api_titles(blog_url)
    # The reader's page, still not reloaded, shows the edit, then loses the deleted post.
    expect(reader.locator("article.post h2", has_text=f"{title} (edited)")).to_have_count(1)

    author.locator("article.post", has_text=title).get_by_role("link", name="Edit").click()
    author.get_by_role("button", name="Delete this post").click()
    expect(author.locator(".flash.success")).to_have_text("Your post is deleted.")
    expect(author.locator("article.post", has_text=title)).to_have_count(0)
    assert not any(title in existing for existing in api_titles(blog_url))
    expect(reader.locator("article.post", has_text=title)).to_have_count(0)
    assert reader.evaluate("window.notReloaded") is True

    author.get_by_role("button", name="Log out").click()
    expect(author.locator(".flash.success")).to_have_text("You are logged out.")
    expect(author.get_by_role("link", name="Log in")).to_be_visible()
    expect(author.get_by_role("link", name="New post")).to_have_count(0)


def test_login_with_a_wrong_password(new_page: Callable[[], Page]) -> None:
    page = new_page()
    username = unique("bob")
    register_and_log_in(page, username)
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flash.error")).to_have_text("Wrong username or password.")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_xss_payload_is_shown_as_text(new_page: Callable[[], Page]) -> None:
    author, reader = new_page(), new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (author, reader):
        page.on("dialog", record)
    register_and_log_in(author, unique("mallory"))
    open_live_index(reader)

    title = f"<img src=x onerror=\"alert('title {next(_numbers)}')\">"
    body = "<script>alert('body')</script><b>bold?</b>"
    publish(author, title, body)
    author.reload()  # the server-rendered page
    for page in (author, reader):  # and the page that got the post live, built by live.js
        post = page.locator("article.post").first
        expect(post.locator("h2")).to_have_text(title)
        expect(post.locator(".body")).to_have_text(body)
        expect(post.locator("img, script, b")).to_have_count(0)
    # An alert would have fired by the time the script-built post is shown; give any late one
    # a moment (bounded) before checking.
    reader.wait_for_timeout(300)
    assert dialogs == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_form_on_another_site_cannot_post(
    new_page: Callable[[], Page], blog_url: str, other_site: int, host: str
) -> None:
    """localhost is another site (SameSite=Lax keeps the cookie home, and Sec-Fetch-Site says
    cross-site); 127.0.0.1 on another port is the same site but another origin: the cookie is
    sent, and only the Fetch metadata check refuses the request."""
    page = new_page()
    register_and_log_in(page, unique("victim"))
    page.goto(f"http://{host}:{other_site}/forged.html")
    expect(page).to_have_title("Win a prize")
    with page.expect_response(
        lambda response: response.url == f"{blog_url}/create" and response.request.method == "POST"
    ) as posted:
        page.locator("#send").click()
    response = posted.value
    assert response.status == 403
    assert "another site" in response.text()
    assert "forged post" not in api_titles(blog_url)
    # The visitor is still logged in, and can post from the blog itself.
    page.goto(f"{blog_url}/")
    expect(page.get_by_role("link", name="New post")).to_be_visible()

"""Templates: loading, inheritance, autoescaping, the template context, registered filters, tests
and globals, streaming, reloading, options and signals."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
from jinja2 import Template, TemplateNotFound
from markupsafe import Markup

from erlen import (
    Erlen,
    flash,
    g,
    get_template_attribute,
    render_template,
    render_template_string,
    session,
    stream_template,
    stream_template_string,
)
from erlen.signals import before_render_template, template_rendered
from erlen.testing import ErlenClient


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    """An app whose root folder (and so ``templates/``) is a temporary folder."""
    app = Erlen("test_templating", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    return app


def write(app: Erlen, name: str, text: str) -> Path:
    path = Path(app.root_path, "templates", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- loading ----------------------------------------------------------------------------------


def test_render_template_from_folder(app: Erlen, client: ErlenClient) -> None:
    write(app, "hello.html", "Hello {{ name }}!")
    write(app, "sub/page.html", "Page {{ number }}")

    @app.route("/")
    def index() -> str:
        return render_template("hello.html", name="World")

    @app.route("/sub")
    def sub() -> str:
        return render_template("sub/page.html", number=7)

    assert client.get("/").data == b"Hello World!"
    assert client.get("/sub").data == b"Page 7"


def test_template_inheritance(app: Erlen, client: ErlenClient) -> None:
    write(
        app,
        "base.html",
        "<title>{% block title %}Default{% endblock %}</title>"
        "<main>{% block body %}{% endblock %}</main>",
    )
    write(
        app,
        "child.html",
        '{% extends "base.html" %}{% block title %}Child{% endblock %}'
        "{% block body %}Body of {{ who }}{% endblock %}",
    )

    @app.route("/")
    def index() -> str:
        return render_template("child.html", who="me")

    assert client.get("/").data == b"<title>Child</title><main>Body of me</main>"


def test_first_existing_of_a_list(app: Erlen, client: ErlenClient) -> None:
    write(app, "second.html", "second")
    write(app, "third.html", "third")

    @app.route("/")
    def index() -> str:
        return render_template(["missing.html", "second.html", "third.html"])

    assert client.get("/").data == b"second"


def test_template_object_is_rendered(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        template = app.jinja_env.from_string("object {{ value }}")
        return render_template(template, value=1)

    assert client.get("/").data == b"object 1"


def test_template_not_found(app: Erlen, client: ErlenClient) -> None:
    @app.route("/one")
    def one() -> str:
        return render_template("nope.html")

    @app.route("/list")
    def several() -> str:
        return render_template(["nope.html", "neither.html"])

    with pytest.raises(TemplateNotFound) as info:
        client.get("/one")
    assert info.value.name == "nope.html"
    with pytest.raises(TemplateNotFound):
        client.get("/list")


def test_template_not_found_is_a_500_outside_testing(app: Erlen, client: ErlenClient) -> None:
    app.config["TESTING"] = False
    app.logger.disabled = True

    @app.route("/")
    def index() -> str:
        return render_template("nope.html")

    try:
        response = client.get("/")
    finally:
        app.logger.disabled = False
    assert response.status_code == 500
    assert b"nope.html" not in response.data


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_render_from_sync_and_async_views(app: Erlen, client: ErlenClient, kind: str) -> None:
    write(app, "page.html", "{{ kind }} {{ request.path }} {{ value }}")

    if kind == "sync":

        @app.route("/page")
        def page() -> str:
            return render_template("page.html", kind=kind, value="<b>")

    else:

        @app.route("/page", endpoint="page")
        async def async_page() -> str:
            return render_template("page.html", kind=kind, value="<b>")

    response = client.get("/page")
    assert response.status_code == 200
    assert response.data.decode() == f"{kind} /page &lt;b&gt;"


# --- autoescaping -----------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".html", ".htm", ".xml", ".xhtml", ".svg"])
def test_autoescape_on_for_markup_files(app: Erlen, client: ErlenClient, extension: str) -> None:
    write(app, f"page{extension}", "{{ value }}|{{ safe }}")

    @app.route("/")
    def index() -> str:
        return render_template(f"page{extension}", value="<a&b>", safe=Markup("<i>ok</i>"))

    assert client.get("/").data == b"&lt;a&amp;b&gt;|<i>ok</i>"


def test_autoescape_off_for_text_files(app: Erlen, client: ErlenClient) -> None:
    write(app, "mail.txt", "{{ value }}")

    @app.route("/")
    def index() -> str:
        return render_template("mail.txt", value="<a&b>")

    assert client.get("/").data == b"<a&b>"


def test_autoescape_on_for_template_strings(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return render_template_string("{{ value }} {{ value|safe }}", value="<x>")

    assert client.get("/").data == b"&lt;x&gt; <x>"


def test_autoescape_block_can_turn_it_off(app: Erlen, client: ErlenClient) -> None:
    write(app, "page.html", "{% autoescape false %}{{ value }}{% endautoescape %}")

    @app.route("/")
    def index() -> str:
        return render_template("page.html", value="<raw>")

    assert client.get("/").data == b"<raw>"


# --- the template context ---------------------------------------------------------------------


def test_standard_context(app: Erlen, client: ErlenClient) -> None:
    app.config["SITE_NAME"] = "Erlen site"
    write(
        app,
        "context.html",
        "{{ config.SITE_NAME }}|{{ request.path }}|{{ request.args.q }}|{{ session.user }}"
        "|{{ g.color }}|{{ url_for('target', id=3) }}|{{ get_flashed_messages()|join(',') }}",
    )

    @app.route("/login")
    def login() -> str:
        session["user"] = "ann"
        flash("welcome")
        flash("again")
        return "ok"

    @app.route("/target/<int:id>")
    def target(id: int) -> str:
        return str(id)

    @app.route("/show")
    def show() -> str:
        g.color = "green"
        return render_template("context.html")

    client.get("/login")
    response = client.get("/show?q=term")
    assert response.data == b"Erlen site|/show|term|ann|green|/target/3|welcome,again"
    # the messages were consumed by the template
    assert client.get("/show").data.endswith(b"|/target/3|")


def test_session_opens_only_when_the_template_uses_it(app: Erlen, client: ErlenClient) -> None:
    @app.route("/plain")
    def plain() -> str:
        return render_template_string("{{ request.path }} {{ g.get('x') }}")

    @app.route("/uses")
    def uses() -> str:
        return render_template_string("{{ session.get('user', 'nobody') }}")

    plain_response = client.get("/plain")
    assert plain_response.text == "/plain None"
    assert "Cookie" not in plain_response.headers.get("Vary", "")
    uses_response = client.get("/uses")
    assert uses_response.text == "nobody"
    assert "Cookie" in uses_response.headers.get("Vary", "")


def test_template_context_outside_a_request(app: Erlen) -> None:
    app.config["SITE_NAME"] = "offline"
    with app.app_context():
        g.value = 5
        text = render_template_string(
            "{{ config.SITE_NAME }} {{ g.value }} {{ request is defined }}"
        )
    assert text == "offline 5 False"


def test_context_processor(app: Erlen, client: ErlenClient) -> None:
    @app.context_processor
    def add_values() -> dict[str, t.Any]:
        return {"site": "from processor", "user": "processor user", "path": "x"}

    @app.context_processor
    def uses_request() -> dict[str, t.Any]:
        from erlen import request

        return {"path": request.path}

    @app.route("/")
    def index() -> str:
        return render_template_string("{{ site }}|{{ user }}|{{ path }}")

    @app.route("/override")
    def override() -> str:
        return render_template_string("{{ site }}|{{ user }}", user="view user")

    assert client.get("/").data == b"from processor|processor user|/"
    assert client.get("/override").data == b"from processor|view user"


def test_context_processor_values_available_to_included_templates(
    app: Erlen, client: ErlenClient
) -> None:
    write(app, "part.html", "[{{ shared }}]")
    write(app, "page.html", "{% include 'part.html' %}")

    @app.context_processor
    def shared() -> dict[str, t.Any]:
        return {"shared": "yes"}

    @app.route("/")
    def index() -> str:
        return render_template("page.html")

    assert client.get("/").data == b"[yes]"


# --- filters, tests and globals ---------------------------------------------------------------


def test_template_filter_forms(app: Erlen, client: ErlenClient) -> None:
    @app.template_filter
    def bare(value: str) -> str:
        return value.upper()

    @app.template_filter()
    def called(value: str) -> str:
        return value[::-1]

    @app.template_filter("named")
    def named_function(value: str) -> str:
        return f"<{value}>"

    def added(value: str) -> str:
        return value * 2

    def added_named(value: str) -> str:
        return value + "!"

    app.add_template_filter(added)
    app.add_template_filter(added_named, "shout")

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{{ 'ab'|bare }} {{ 'ab'|called }} {{ 'ab'|named }} {{ 'ab'|added }} {{ 'ab'|shout }}"
        )

    assert bare("x") == "X"  # the decorators return the function itself
    assert named_function("x") == "<x>"
    assert "named_function" not in app.jinja_env.filters
    assert client.get("/").data == b"AB ba &lt;ab&gt; abab ab!"


def test_template_test_forms(app: Erlen, client: ErlenClient) -> None:
    @app.template_test
    def even(value: int) -> bool:
        return value % 2 == 0

    @app.template_test()
    def positive(value: int) -> bool:
        return value > 0

    @app.template_test("big")
    def is_big(value: int) -> bool:
        return value > 100

    def small(value: int) -> bool:
        return value < 10

    def is_zero(value: int) -> bool:
        return value == 0

    app.add_template_test(small)
    app.add_template_test(is_zero, "zero")

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{{ 4 is even }} {{ 3 is even }} {{ -1 is positive }} {{ 500 is big }}"
            " {{ 50 is small }} {{ 0 is zero }}"
        )

    assert client.get("/").data == b"True False False True False True"


def test_template_global_forms(app: Erlen, client: ErlenClient) -> None:
    @app.template_global
    def answer() -> int:
        return 42

    @app.template_global()
    def double(value: int) -> int:
        return value * 2

    @app.template_global("greeting")
    def make_greeting(name: str) -> str:
        return f"hi {name}"

    def added() -> str:
        return "added"

    def added_named() -> str:
        return "named"

    app.add_template_global(added)
    app.add_template_global(added_named, "other")

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{{ answer() }} {{ double(4) }} {{ greeting('bo') }} {{ added() }} {{ other() }}"
        )

    assert client.get("/").data == b"42 8 hi bo added named"


# --- streaming --------------------------------------------------------------------------------


def test_stream_template(app: Erlen, client: ErlenClient) -> None:
    write(app, "list.html", "<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>")

    @app.route("/")
    def index() -> t.Iterator[str]:
        return stream_template("list.html", items=["a", "<b>", "c"])

    response = client.get("/")
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # sent as it is produced
    assert response.data == b"<ul><li>a</li><li>&lt;b&gt;</li><li>c</li></ul>"


def test_stream_template_string(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    async def index() -> t.Iterator[str]:
        return stream_template_string(
            "{% for i in range(3) %}{{ i }}-{% endfor %}{{ request.path }}"
        )

    response = client.get("/")
    assert "Content-Length" not in response.headers
    assert response.data == b"0-1-2-/"


def test_stream_template_renders_lazily(app: Erlen) -> None:
    produced: list[int] = []

    def items() -> t.Iterator[int]:
        for number in range(5):
            produced.append(number)
            yield number

    with app.test_request_context("/"):
        stream = stream_template_string("{% for i in items %}{{ i }},{% endfor %}", items=items())
        assert produced == []  # nothing is rendered before the body is read
        first = next(stream)
        assert len(produced) < 5
        rest = "".join(stream)
    assert first + rest == "0,1,2,3,4,"
    assert produced == [0, 1, 2, 3, 4]


# --- macros, reloading, options -----------------------------------------------------------------


def test_get_template_attribute(app: Erlen, client: ErlenClient) -> None:
    write(
        app,
        "macros.html",
        "{% macro greet(name) %}Hello {{ name }}{% endmacro %}{% set version = 3 %}",
    )

    @app.route("/")
    def index() -> str:
        greet = get_template_attribute("macros.html", "greet")
        version = get_template_attribute("macros.html", "version")
        return f"{greet('<Ann>')} v{version}"

    assert client.get("/").data == b"Hello &lt;Ann&gt; v3"


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime + 10, stat.st_mtime + 10))  # a visibly newer file


def test_templates_auto_reload_on(app: Erlen, client: ErlenClient) -> None:
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    path = write(app, "page.html", "version 1")

    @app.route("/")
    def index() -> str:
        return render_template("page.html")

    assert client.get("/").data == b"version 1"
    _rewrite(path, "version 2")
    assert client.get("/").data == b"version 2"


def test_templates_auto_reload_off(app: Erlen, client: ErlenClient) -> None:
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    path = write(app, "page.html", "version 1")

    @app.route("/")
    def index() -> str:
        return render_template("page.html")

    assert client.get("/").data == b"version 1"
    _rewrite(path, "version 2")
    assert client.get("/").data == b"version 1"


def test_templates_auto_reload_follows_debug_by_default(app: Erlen) -> None:
    app.debug = True
    assert app.jinja_env.auto_reload is True


def test_jinja_options(app: Erlen, client: ErlenClient) -> None:
    app.jinja_options = {"variable_start_string": "[[", "variable_end_string": "]]"}
    write(app, "page.html", "[[ value ]] {{ value }}")

    @app.route("/")
    def index() -> str:
        return render_template("page.html", value="<v>")

    # the option applies, and autoescaping stays on since the options do not set it
    assert client.get("/").data == b"&lt;v&gt; {{ value }}"


# --- signals ----------------------------------------------------------------------------------


def test_template_signals(app: Erlen, client: ErlenClient) -> None:
    write(app, "page.html", "{{ value }}")
    events: list[tuple[str, str | None, t.Any]] = []

    def before(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        assert sender is app
        context["value"] = "changed before rendering"
        events.append(("before", template.name, context.get("value")))

    def rendered(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        assert sender is app
        events.append(("rendered", template.name, "request" in context))

    @app.route("/")
    def index() -> str:
        return render_template("page.html", value="original")

    with (
        before_render_template.connected_to(before, sender=app),
        template_rendered.connected_to(rendered, sender=app),
    ):
        response = client.get("/")
    assert response.data == b"changed before rendering"
    assert events == [
        ("before", "page.html", "changed before rendering"),
        ("rendered", "page.html", True),
    ]
    events.clear()
    client.get("/")  # disconnected: no more events
    assert events == []


def test_template_rendered_signal_for_streams(app: Erlen, client: ErlenClient) -> None:
    names: list[str | None] = []

    def rendered(sender: Erlen, template: Template, context: dict[str, t.Any]) -> None:
        names.append(template.name)

    @app.route("/")
    def index() -> t.Iterator[str]:
        return stream_template_string("streamed")

    with template_rendered.connected_to(rendered, sender=app):
        response = client.get("/")
        assert response.data == b"streamed"
    assert names == [None]

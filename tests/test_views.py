"""Class-based views: View and MethodView, sync and async, on the WSGI and the ASGI path."""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import typing as t

from erlen import Erlen, g, request, url_for
from erlen.testing import ErlenClient
from erlen.views import MethodView, View

# --- View --------------------------------------------------------------------------------------


def test_view_dispatch_with_url_and_class_arguments(app: Erlen, client: ErlenClient) -> None:
    class Greet(View):
        def __init__(self, greeting: str, punctuation: str = ".") -> None:
            self.greeting = greeting
            self.punctuation = punctuation

        def dispatch_request(self, **kwargs: t.Any) -> str:
            return f"{self.greeting}, {kwargs['name']}{self.punctuation}"

    app.add_url_rule("/hi/<name>", view_func=Greet.as_view("greet", "Hi", punctuation="!"))
    assert client.get("/hi/ada").text == "Hi, ada!"


def test_view_async_dispatch(app: Erlen, client: ErlenClient) -> None:
    class Slow(View):
        async def dispatch_request(self) -> str:
            await asyncio.sleep(0)
            return f"async {request.path}"

    view = Slow.as_view("slow")
    assert inspect.iscoroutinefunction(view)
    app.add_url_rule("/slow", view_func=view)
    assert client.get("/slow").text == "async /slow"


def test_view_name_is_the_endpoint(app: Erlen, client: ErlenClient) -> None:
    class Page(View):
        """A page."""

        def dispatch_request(self) -> str:
            return url_for("page")

    view = Page.as_view("page")
    assert view.__name__ == "page"
    assert view.__doc__ == "A page."
    assert view.view_class is Page  # type: ignore[attr-defined]
    app.add_url_rule("/page", view_func=view)
    assert "page" in app.view_functions
    assert client.get("/page").text == "/page"


def test_view_methods(app: Erlen, client: ErlenClient) -> None:
    class Form(View):
        methods = ["GET", "POST"]

        def dispatch_request(self) -> str:
            return request.method

    app.add_url_rule("/form", view_func=Form.as_view("form"))
    assert client.get("/form").text == "GET"
    assert client.post("/form").text == "POST"
    response = client.put("/form")
    assert response.status_code == 405
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_view_without_dispatch_request_fails(app: Erlen, client: ErlenClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/nothing", view_func=View.as_view("nothing"))
    assert client.get("/nothing").status_code == 500


def test_view_decorators_wrap_in_order(app: Erlen, client: ErlenClient) -> None:
    def tag(label: str) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
        def decorator(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            @functools.wraps(view)
            def wrapped(**kwargs: t.Any) -> t.Any:
                return f"{label}({view(**kwargs)})"

            return wrapped

        return decorator

    class Wrapped(View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self) -> str:
            return "view"

    app.add_url_rule("/wrapped", view_func=Wrapped.as_view("wrapped"))
    assert client.get("/wrapped").text == "outer(inner(view))"


def test_decorator_can_short_circuit_an_async_view(app: Erlen, client: ErlenClient) -> None:
    def require_token(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def check(**kwargs: t.Any) -> t.Any:
            if request.args.get("token") != "ok":
                return "denied", 403
            return view(**kwargs)  # a coroutine: awaited by the pipeline

        return check

    class Secret(View):
        decorators = [require_token]

        async def dispatch_request(self) -> str:
            return "secret"

    app.add_url_rule("/secret", view_func=Secret.as_view("secret"))
    assert client.get("/secret").status_code == 403
    assert client.get("/secret?token=ok").text == "secret"


def test_init_every_request(app: Erlen, client: ErlenClient) -> None:
    class Fresh(View):
        def __init__(self) -> None:
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    class Shared(Fresh):
        init_every_request = False

    app.add_url_rule("/fresh", view_func=Fresh.as_view("fresh"))
    app.add_url_rule("/shared", view_func=Shared.as_view("shared"))
    assert [client.get("/fresh").text for _ in range(3)] == ["1", "1", "1"]
    assert [client.get("/shared").text for _ in range(3)] == ["1", "2", "3"]


def test_provide_automatic_options_off(app: Erlen, client: ErlenClient) -> None:
    class Plain(View):
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "plain"

    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
    assert client.open("/plain", method="OPTIONS").status_code == 405
    assert client.get("/plain").text == "plain"


# --- MethodView --------------------------------------------------------------------------------


class Items(MethodView):
    def get(self, item_id: int | None = None) -> str:
        return f"get {item_id}"

    def post(self) -> tuple[str, int]:
        return f"created {request.get_json()['name']}", 201

    def delete(self, item_id: int) -> tuple[str, int]:
        return "", 204


def test_method_view_methods_come_from_handlers() -> None:
    assert Items.methods == {"GET", "POST", "DELETE"}


def test_method_view_dispatches_by_method(app: Erlen, client: ErlenClient) -> None:
    view = Items.as_view("items")
    app.add_url_rule("/items", view_func=view, methods=["GET", "POST"])
    app.add_url_rule("/items/<int:item_id>", view_func=view, methods=["GET", "DELETE"])
    assert client.get("/items").text == "get None"
    assert client.get("/items/3").text == "get 3"
    response = client.post("/items", json={"name": "pen"})
    assert (response.status_code, response.text) == (201, "created pen")
    assert client.delete("/items/3").status_code == 204
    assert client.put("/items/3").status_code == 405


def test_method_view_head_falls_back_to_get(app: Erlen, client: ErlenClient) -> None:
    calls: list[str] = []

    class Page(MethodView):
        def get(self) -> str:
            calls.append(request.method)
            return "body"

    app.add_url_rule("/page", view_func=Page.as_view("page"))
    response = client.head("/page")
    assert response.status_code == 200
    assert response.data == b""
    assert response.content_length == 4
    assert calls == ["HEAD"]


def test_method_view_explicit_head_handler(app: Erlen, client: ErlenClient) -> None:
    class Page(MethodView):
        def get(self) -> str:
            return "body"

        def head(self) -> tuple[str, int, dict[str, str]]:
            return "", 200, {"X-Head": "own"}

    app.add_url_rule("/page", view_func=Page.as_view("page"))
    assert client.head("/page").headers["X-Head"] == "own"


def test_method_view_inherits_handlers_and_methods(app: Erlen, client: ErlenClient) -> None:
    class Readable(MethodView):
        def get(self) -> str:
            return f"read by {type(self).__name__}"

    class Writable(Readable):
        def put(self) -> str:
            return "written"

    class Custom(MethodView):
        methods = ["PROPFIND"]

        def propfind(self) -> str:
            return "props"

    class Mixed(Custom, Writable):
        pass

    assert Writable.methods == {"GET", "PUT"}
    assert set(Mixed.methods or ()) == {"GET", "PUT", "PROPFIND"}
    app.add_url_rule("/mixed", view_func=Mixed.as_view("mixed"))
    assert client.get("/mixed").text == "read by Mixed"
    assert client.put("/mixed").text == "written"
    assert client.open("/mixed", method="PROPFIND").text == "props"


def test_method_view_allow_header(app: Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/items", view_func=Items.as_view("items"))
    response = client.open("/items", method="OPTIONS")
    assert set(response.allow) == {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}


def test_method_view_declared_method_without_handler(app: Erlen, client: ErlenClient) -> None:
    class Partial(MethodView):
        methods = ["GET", "PATCH"]

        def get(self) -> str:
            return "ok"

    app.add_url_rule("/partial", view_func=Partial.as_view("partial"))
    assert client.get("/partial").text == "ok"
    response = client.patch("/partial")
    assert response.status_code == 405
    assert set(response.allow) == {"GET", "PATCH"}


def test_method_view_async_handlers(app: Erlen, client: ErlenClient) -> None:
    class Notes(MethodView):
        async def get(self, note_id: int) -> dict[str, t.Any]:
            await asyncio.sleep(0)
            g.seen = note_id
            return {"id": note_id, "seen": g.seen}

        async def post(self, note_id: int) -> tuple[dict[str, t.Any], int]:
            data = request.get_json()  # the body is read before async code runs
            await asyncio.sleep(0)
            return {"id": note_id, "text": data["text"]}, 201

    view = Notes.as_view("notes")
    assert inspect.iscoroutinefunction(view)
    app.add_url_rule("/notes/<int:note_id>", view_func=view)
    assert client.get("/notes/7").json == {"id": 7, "seen": 7}
    response = client.post("/notes/7", json={"text": "x" * 100_000})
    assert response.status_code == 201
    assert response.json == {"id": 7, "text": "x" * 100_000}
    assert client.head("/notes/7").status_code == 200


def test_method_view_mixed_sync_and_async(app: Erlen, client: ErlenClient) -> None:
    class Mixed(MethodView):
        def get(self) -> str:
            return "sync get"

        async def post(self) -> str:
            await asyncio.sleep(0)
            return f"async post {request.form['field']}"

    view = Mixed.as_view("mixed")
    assert not inspect.iscoroutinefunction(view)
    app.add_url_rule("/mixed", view_func=view)
    assert client.get("/mixed").text == "sync get"
    assert client.post("/mixed", data={"field": "v"}).text == "async post v"


def test_method_view_async_errors_reach_error_handlers(app: Erlen, client: ErlenClient) -> None:
    class Broken(MethodView):
        async def get(self) -> str:
            raise KeyError("missing")

    @app.errorhandler(KeyError)
    def handle(error: KeyError) -> tuple[str, int]:
        return f"handled {error}", 418

    app.add_url_rule("/broken", view_func=Broken.as_view("broken"))
    response = client.get("/broken")
    assert (response.status_code, response.text) == (418, "handled 'missing'")


def test_async_method_view_runs_on_the_loop_sync_in_a_worker(
    app: Erlen, client: ErlenClient, protocol: str
) -> None:
    def where() -> str:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return f"no loop, {threading.current_thread().name.startswith('erlen-worker')}"
        return "loop"

    class Async(MethodView):
        async def get(self) -> str:
            return where()

    class Sync(MethodView):
        def get(self) -> str:
            return where()

    app.add_url_rule("/async", view_func=Async.as_view("async"))
    app.add_url_rule("/sync", view_func=Sync.as_view("sync"))
    assert client.get("/async").text == "loop"
    # Sync handlers never block the server's loop: under ASGI they run in the worker pool.
    assert client.get("/sync").text == f"no loop, {protocol == 'asgi'}"


def test_method_view_ignores_private_method_names(app: Erlen, client: ErlenClient) -> None:
    class Guarded(MethodView):
        methods = ["GET", "_SECRET"]

        def get(self) -> str:
            return "ok"

        def _secret(self) -> str:
            return "leaked"

    app.add_url_rule("/guarded", view_func=Guarded.as_view("guarded"))
    response = client.open("/guarded", method="_SECRET")
    assert response.status_code == 405
    assert "leaked" not in response.text

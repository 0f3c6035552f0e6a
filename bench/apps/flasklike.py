"""erlen and Flask: the same app code, since erlen has Flask 3.1's API. erlen's ``async def``
variant (what an ASGI app is written with) differs only in ``async def`` views and generator."""

from __future__ import annotations

import contextlib
import importlib
import typing as t

from . import common as c

#: erlen-only variants of the hello app that must cost (next to) nothing.
VARIANTS = {
    "blueprint": "+ an unused blueprint",
    "signals": "+ signals: receivers for another app, none for this one",
    "bp_hooks": "+ before/after_request hooks on another blueprint",
}


def build(
    framework: str, scenario: str, async_views: bool = False, variant: str | None = None
) -> t.Any:
    fw = importlib.import_module(framework)
    if scenario == "ws" and not async_views:
        if framework == "flask":
            raise c.NotSupported("Flask has no WebSockets")
        raise c.NotSupported("WebSocket handlers are async def only")
    app_class = fw.Erlen if framework == "erlen" else fw.Flask
    app = app_class(__name__, template_folder=c.TEMPLATE_DIR)
    app.config["SECRET_KEY"] = c.SECRET
    request, session, g = fw.request, fw.session, fw.g

    def view(rule: str, methods: tuple[str, ...] = ("GET",), endpoint: str | None = None) -> t.Any:
        """Register a sync function, as ``async def`` for erlen's async variant."""

        def decorator(f: t.Callable[..., t.Any]) -> t.Any:
            func = f
            if async_views:

                async def func(*args: t.Any, **kwargs: t.Any) -> t.Any:
                    return f(*args, **kwargs)

            app.add_url_rule(rule, endpoint or f.__name__, func, methods=list(methods))
            return f

        return decorator

    if scenario == "hello":

        @view("/")
        def hello() -> str:
            return c.HELLO

        if variant is not None:
            _add_variant(fw, app, variant)
    elif scenario == "param":

        @view("/users/<int:user_id>")
        def get_user(user_id: int) -> dict[str, t.Any]:
            return c.user(user_id)
    elif scenario == "routes50":
        for rule in c.ROUTES:

            def route(rule: str = rule) -> str:
                return rule

            view(rule, endpoint=rule)(route)
    elif scenario == "json":

        @view("/echo", methods=("POST",))
        def echo() -> t.Any:
            return request.get_json()
    elif scenario == "form":

        @view("/form", methods=("POST",))
        def form() -> str:
            return ",".join(request.form[name] for name in c.FORM)
    elif scenario == "upload":

        @view("/upload", methods=("POST",))
        def upload() -> str:
            file = request.files["file"]
            return f"{file.filename}:{len(file.read())}"
    elif scenario == "template":

        @view("/template")
        def template() -> str:
            return t.cast(str, fw.render_template(c.TEMPLATE_NAME, items=c.ITEMS))
    elif scenario == "session":

        @view("/session")
        def session_view() -> str:
            count = session.get("n", 0)
            session["n"] = count + 1
            return c.session_answer(count)
    elif scenario == "404":

        @view("/")
        def index() -> str:
            return c.HELLO
    elif scenario == "hooks":
        if async_views:

            @app.before_request
            async def before() -> None:
                g.user = c.HOOK_USER

            @app.after_request
            async def after(response: t.Any) -> t.Any:
                response.headers[c.HOOK_HEADER] = "1"
                return response

            @app.teardown_request
            async def teardown(error: t.Any) -> None:
                g.pop("user", None)
        else:

            @app.before_request
            def before() -> None:
                g.user = c.HOOK_USER

            @app.after_request
            def after(response: t.Any) -> t.Any:
                response.headers[c.HOOK_HEADER] = "1"
                return response

            @app.teardown_request
            def teardown(error: t.Any) -> None:
                g.pop("user", None)

        @view("/hooks")
        def hooks() -> str:
            return f"hooked:{g.user}"
    elif scenario == "stream":
        if async_views:

            @app.get("/stream")
            async def stream() -> t.Any:
                return c.astream_chunks()
        else:

            @view("/stream")
            def stream() -> t.Any:
                return c.stream_chunks()
    elif scenario == "ws":
        websocket = fw.websocket

        @app.websocket("/ws")
        async def echo_ws() -> None:
            while True:  # until the client disconnects (WebSocketDisconnect ends the handler)
                await websocket.send(await websocket.receive())
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return app


#: What erlen does by default that the peers do not, and how to turn it off.
LEAN_CONFIG: dict[str, t.Any] = {
    "CROSS_SITE_PROTECTION": False,  # the cross-site check of every POST
    "SECURITY_HEADERS": {},  # three response headers
    "BODY_READ_TIMEOUT": None,  # the stall timeout of a request body (ASGI)
    "MAX_HEADER_COUNT": None,  # the request header limits
    "MAX_HEADER_SIZE": None,
}


def build_lean(scenario: str, async_views: bool = False) -> t.Any:
    """erlen without its defaults beyond the peers' (:data:`LEAN_CONFIG`, and JSON keys left
    unsorted): the gap to a peer that is the cost of those defaults, and the one that is not."""
    app = build("erlen", scenario, async_views=async_views)
    app.config.update(LEAN_CONFIG)
    app.json.sort_keys = False
    return app


def _add_variant(fw: t.Any, app: t.Any, variant: str) -> None:
    if variant == "blueprint":
        unused = fw.Blueprint("unused", __name__, url_prefix="/unused")
        for i in range(5):
            unused.add_url_rule(f"/page{i}", f"page{i}", lambda: "unused")
        app.register_blueprint(unused)
    elif variant == "signals":
        # Receivers connected for another app, none for this one. blinker's signals are global,
        # so they are connected only around this app's own timing (the harness enters
        # ``app.bench_around``), not while the other erlen apps are timed.
        from erlen import signals

        other = fw.Erlen("other")

        def receiver(sender: t.Any, **kwargs: t.Any) -> None:
            raise AssertionError("a receiver for another app was called")

        names = (
            "request_started",
            "request_finished",
            "request_tearing_down",
            "appcontext_pushed",
            "appcontext_popped",
            "appcontext_tearing_down",
            "got_request_exception",
        )

        @contextlib.contextmanager
        def around() -> t.Iterator[None]:
            for name in names:
                getattr(signals, name).connect(receiver, sender=other, weak=False)
            try:
                yield
            finally:
                # Without a sender: blinker keeps a receiver disconnected from one sender in
                # ``signal.receivers``, which would leak it into the other apps' timings.
                for name in names:
                    getattr(signals, name).disconnect(receiver)

        app.bench_around = around
    elif variant == "bp_hooks":
        admin = fw.Blueprint("admin", __name__, url_prefix="/admin")

        @admin.before_request
        def admin_before() -> None:
            raise AssertionError("another blueprint's hook ran")

        @admin.after_request
        def admin_after(response: t.Any) -> t.Any:
            raise AssertionError("another blueprint's hook ran")

        admin.add_url_rule("/", "index", lambda: "admin")
        app.register_blueprint(admin)
    else:
        raise ValueError(variant)

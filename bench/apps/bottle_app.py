"""Bottle 0.13 (WSGI). Templates with Jinja2 directly; the session is an itsdangerous-signed
cookie by hand (Bottle's own signed cookies are pickle-based)."""

from __future__ import annotations

import typing as t

from . import common as c


def build(scenario: str) -> t.Any:
    import bottle
    from bottle import request, response

    if scenario == "ws":
        raise c.NotSupported("WSGI has no WebSockets")
    app = bottle.Bottle()

    if scenario == "hello":

        @app.get("/")
        def hello() -> str:
            return c.HELLO
    elif scenario == "param":

        @app.get("/users/<user_id:int>")
        def get_user(user_id: int) -> dict[str, t.Any]:
            return c.user(user_id)
    elif scenario == "routes50":
        for rule in c.ROUTES:

            def route(rule: str = rule) -> str:
                return rule

            app.route(rule, "GET", route)
    elif scenario == "json":

        @app.post("/echo")
        def echo() -> t.Any:
            return request.json
    elif scenario == "form":

        @app.post("/form")
        def form() -> str:
            forms = request.forms
            return ",".join(forms.getunicode(name) for name in c.FORM)
    elif scenario == "upload":

        @app.post("/upload")
        def upload() -> str:
            file = request.files.get("file")
            return f"{file.raw_filename}:{len(file.file.read())}"
    elif scenario == "template":
        template = c.jinja_env().get_template(c.TEMPLATE_NAME)

        @app.get("/template")
        def render() -> str:
            return t.cast(str, template.render(items=c.ITEMS))
    elif scenario == "session":

        @app.get("/session")
        def session_view() -> str:
            data = c.load_session(request.get_cookie(c.SESSION_COOKIE))
            count = data.get("n", 0)
            data["n"] = count + 1
            response.set_cookie(
                c.SESSION_COOKIE, c.dump_session(data), httponly=True, path="/", samesite="lax"
            )
            return c.session_answer(count)
    elif scenario == "404":

        @app.get("/")
        def index() -> str:
            return c.HELLO
    elif scenario == "hooks":

        @app.hook("before_request")
        def before() -> None:
            request.environ["bench.user"] = c.HOOK_USER

        @app.hook("after_request")
        def after() -> None:
            response.set_header(c.HOOK_HEADER, "1")

        @app.get("/hooks")
        def hooks() -> str:
            return f"hooked:{request.environ['bench.user']}"
    elif scenario == "stream":

        @app.get("/stream")
        def stream() -> t.Any:
            return c.stream_chunks()
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return app

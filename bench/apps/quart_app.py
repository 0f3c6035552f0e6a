"""Quart (ASGI, Flask's API with ``async def`` views and awaited request data)."""

from __future__ import annotations

import typing as t

from . import common as c


def build(scenario: str) -> t.Any:
    import quart
    from quart import g, request, session, websocket

    app = quart.Quart(__name__, template_folder=c.TEMPLATE_DIR)
    app.config["SECRET_KEY"] = c.SECRET

    if scenario in ("hello", "404"):

        @app.get("/")
        async def hello() -> str:
            return c.HELLO
    elif scenario == "param":

        @app.get("/users/<int:user_id>")
        async def get_user(user_id: int) -> dict[str, t.Any]:
            return c.user(user_id)
    elif scenario == "routes50":
        for rule in c.ROUTES:

            async def route(rule: str = rule) -> str:
                return rule

            app.add_url_rule(rule, rule, route)
    elif scenario == "json":

        @app.post("/echo")
        async def echo() -> t.Any:
            return await request.get_json()
    elif scenario == "form":

        @app.post("/form")
        async def form() -> str:
            data = await request.form
            return ",".join(data[name] for name in c.FORM)
    elif scenario == "upload":

        @app.post("/upload")
        async def upload() -> str:
            file = (await request.files)["file"]
            return f"{file.filename}:{len(file.read())}"
    elif scenario == "template":

        @app.get("/template")
        async def template() -> str:
            return await quart.render_template(c.TEMPLATE_NAME, items=c.ITEMS)
    elif scenario == "session":

        @app.get("/session")
        async def session_view() -> str:
            count = session.get("n", 0)
            session["n"] = count + 1
            return c.session_answer(count)
    elif scenario == "hooks":

        @app.before_request
        async def before() -> None:
            g.user = c.HOOK_USER

        @app.after_request
        async def after(response: t.Any) -> t.Any:
            response.headers[c.HOOK_HEADER] = "1"
            return response

        @app.get("/hooks")
        async def hooks() -> str:
            return f"hooked:{g.user}"
    elif scenario == "stream":

        @app.get("/stream")
        async def stream() -> t.Any:
            return c.astream_chunks(), 200, {"Content-Type": "text/plain"}
    elif scenario == "ws":

        @app.websocket("/ws")
        async def echo_ws() -> None:
            while True:  # until the client disconnects (Quart cancels the handler)
                await websocket.send(await websocket.receive())
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return app

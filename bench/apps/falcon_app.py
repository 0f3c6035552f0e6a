"""Falcon 4.4, WSGI (``falcon.App``) and ASGI (``falcon.asgi.App``, ``async def`` responders).
Templates with Jinja2 directly; the session is an itsdangerous-signed cookie by hand."""

from __future__ import annotations

import typing as t

from . import common as c


class Hooks:
    """The before/after hook pair as Falcon middleware (sync)."""

    def process_request(self, req: t.Any, resp: t.Any) -> None:
        req.context.user = c.HOOK_USER

    def process_response(self, req: t.Any, resp: t.Any, resource: t.Any, ok: bool) -> None:
        resp.set_header(c.HOOK_HEADER, "1")


class AsyncHooks:
    async def process_request(self, req: t.Any, resp: t.Any) -> None:
        req.context.user = c.HOOK_USER

    async def process_response(self, req: t.Any, resp: t.Any, resource: t.Any, ok: bool) -> None:
        resp.set_header(c.HOOK_HEADER, "1")


def _text(resp: t.Any, text: str) -> None:
    resp.content_type = "text/plain; charset=utf-8"
    resp.text = text


def _session(req: t.Any, resp: t.Any) -> None:
    values = req.get_cookie_values(c.SESSION_COOKIE)
    data = c.load_session(values[0] if values else None)
    count = data.get("n", 0)
    data["n"] = count + 1
    resp.set_cookie(
        c.SESSION_COOKIE, c.dump_session(data), http_only=True, path="/", secure=False,
        same_site="Lax",
    )  # fmt: skip
    _text(resp, c.session_answer(count))


def build_wsgi(scenario: str) -> t.Any:
    import falcon

    if scenario == "ws":
        raise c.NotSupported("WSGI has no WebSockets")
    app = falcon.App(middleware=[Hooks()] if scenario == "hooks" else None)

    class Text:
        def __init__(self, text: str) -> None:
            self.text = text

        def on_get(self, req: t.Any, resp: t.Any) -> None:
            _text(resp, self.text)

    if scenario in ("hello", "404"):
        app.add_route("/", Text(c.HELLO))
    elif scenario == "param":

        class User:
            def on_get(self, req: t.Any, resp: t.Any, user_id: int) -> None:
                resp.media = c.user(user_id)

        app.add_route("/users/{user_id:int}", User())
    elif scenario == "routes50":
        for rule in c.ROUTES:
            app.add_route(rule, Text(rule))
    elif scenario == "json":

        class Echo:
            def on_post(self, req: t.Any, resp: t.Any) -> None:
                resp.media = req.get_media()

        app.add_route("/echo", Echo())
    elif scenario == "form":

        class Form:
            def on_post(self, req: t.Any, resp: t.Any) -> None:
                form = req.get_media()
                _text(resp, ",".join(form[name] for name in c.FORM))

        app.add_route("/form", Form())
    elif scenario == "upload":

        class Upload:
            def on_post(self, req: t.Any, resp: t.Any) -> None:
                for part in req.get_media():  # bounded by the body's parts
                    if part.name == "file":
                        _text(resp, f"{part.filename}:{len(part.stream.read())}")

        app.add_route("/upload", Upload())
    elif scenario == "template":
        template = c.jinja_env().get_template(c.TEMPLATE_NAME)

        class Template:
            def on_get(self, req: t.Any, resp: t.Any) -> None:
                resp.content_type = falcon.MEDIA_HTML
                resp.text = template.render(items=c.ITEMS)

        app.add_route("/template", Template())
    elif scenario == "session":

        class Session:
            def on_get(self, req: t.Any, resp: t.Any) -> None:
                _session(req, resp)

        app.add_route("/session", Session())
    elif scenario == "hooks":

        class Hooked:
            def on_get(self, req: t.Any, resp: t.Any) -> None:
                _text(resp, f"hooked:{req.context.user}")

        app.add_route("/hooks", Hooked())
    elif scenario == "stream":

        class Stream:
            def on_get(self, req: t.Any, resp: t.Any) -> None:
                resp.content_type = "text/plain; charset=utf-8"
                resp.stream = (chunk.encode() for chunk in c.stream_chunks())

        app.add_route("/stream", Stream())
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return app


def build_asgi(scenario: str) -> t.Any:
    import falcon
    import falcon.asgi

    app = falcon.asgi.App(middleware=[AsyncHooks()] if scenario == "hooks" else None)

    class Text:
        def __init__(self, text: str) -> None:
            self.text = text

        async def on_get(self, req: t.Any, resp: t.Any) -> None:
            _text(resp, self.text)

    if scenario in ("hello", "404"):
        app.add_route("/", Text(c.HELLO))
    elif scenario == "param":

        class User:
            async def on_get(self, req: t.Any, resp: t.Any, user_id: int) -> None:
                resp.media = c.user(user_id)

        app.add_route("/users/{user_id:int}", User())
    elif scenario == "routes50":
        for rule in c.ROUTES:
            app.add_route(rule, Text(rule))
    elif scenario == "json":

        class Echo:
            async def on_post(self, req: t.Any, resp: t.Any) -> None:
                resp.media = await req.get_media()

        app.add_route("/echo", Echo())
    elif scenario == "form":

        class Form:
            async def on_post(self, req: t.Any, resp: t.Any) -> None:
                form = await req.get_media()
                _text(resp, ",".join(form[name] for name in c.FORM))

        app.add_route("/form", Form())
    elif scenario == "upload":

        class Upload:
            async def on_post(self, req: t.Any, resp: t.Any) -> None:
                form = await req.get_media()
                async for part in form:  # bounded by the body's parts
                    if part.name == "file":
                        data = await part.stream.read()
                        _text(resp, f"{part.filename}:{len(data)}")

        app.add_route("/upload", Upload())
    elif scenario == "template":
        template = c.jinja_env().get_template(c.TEMPLATE_NAME)

        class Template:
            async def on_get(self, req: t.Any, resp: t.Any) -> None:
                resp.content_type = falcon.MEDIA_HTML
                resp.text = template.render(items=c.ITEMS)

        app.add_route("/template", Template())
    elif scenario == "session":

        class Session:
            async def on_get(self, req: t.Any, resp: t.Any) -> None:
                _session(req, resp)

        app.add_route("/session", Session())
    elif scenario == "hooks":

        class Hooked:
            async def on_get(self, req: t.Any, resp: t.Any) -> None:
                _text(resp, f"hooked:{req.context.user}")

        app.add_route("/hooks", Hooked())
    elif scenario == "stream":

        class Stream:
            async def on_get(self, req: t.Any, resp: t.Any) -> None:
                async def chunks() -> t.AsyncIterator[bytes]:
                    async for chunk in c.astream_chunks():
                        yield chunk.encode()

                resp.content_type = "text/plain; charset=utf-8"
                resp.stream = chunks()

        app.add_route("/stream", Stream())
    elif scenario == "ws":

        class Echo:
            async def on_websocket(self, req: t.Any, ws: t.Any) -> None:
                await ws.accept()
                while True:  # until the client disconnects (WebSocketDisconnected)
                    await ws.send_text(await ws.receive_text())

        app.add_route("/ws", Echo())
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return app

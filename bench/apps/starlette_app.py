"""Starlette (ASGI, ``async def`` endpoints). Sessions with SessionMiddleware; the hook pair is a
pure ASGI middleware (Starlette has no request hooks); templates with Jinja2Templates."""

from __future__ import annotations

import typing as t

from . import common as c


class HookMiddleware:
    """Before: put the user in the request state. After: add a response header."""

    def __init__(self, app: t.Any) -> None:
        self.app = app

    async def __call__(self, scope: t.Any, receive: t.Any, send: t.Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = c.HOOK_USER
        header = (c.HOOK_HEADER.lower().encode(), b"1")

        async def send_with_header(message: t.Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_header)


def build(scenario: str) -> t.Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

    routes: list[t.Any] = []
    middleware: list[t.Any] = []

    if scenario in ("hello", "404"):

        async def hello(request: t.Any) -> t.Any:
            return PlainTextResponse(c.HELLO)

        routes.append(Route("/", hello))
    elif scenario == "param":

        async def get_user(request: t.Any) -> t.Any:
            return JSONResponse(c.user(request.path_params["user_id"]))

        routes.append(Route("/users/{user_id:int}", get_user))
    elif scenario == "routes50":
        for rule in c.ROUTES:

            async def route(request: t.Any, rule: str = rule) -> t.Any:
                return PlainTextResponse(rule)

            routes.append(Route(rule, route))
    elif scenario == "json":

        async def echo(request: t.Any) -> t.Any:
            return JSONResponse(await request.json())

        routes.append(Route("/echo", echo, methods=["POST"]))
    elif scenario == "form":

        async def form(request: t.Any) -> t.Any:
            async with request.form() as data:
                return PlainTextResponse(",".join(data[name] for name in c.FORM))

        routes.append(Route("/form", form, methods=["POST"]))
    elif scenario == "upload":

        async def upload(request: t.Any) -> t.Any:
            async with request.form() as data:
                file = data["file"]
                return PlainTextResponse(f"{file.filename}:{len(await file.read())}")

        routes.append(Route("/upload", upload, methods=["POST"]))
    elif scenario == "template":
        from starlette.templating import Jinja2Templates

        templates = Jinja2Templates(directory=c.TEMPLATE_DIR)

        async def template(request: t.Any) -> t.Any:
            return templates.TemplateResponse(request, c.TEMPLATE_NAME, {"items": c.ITEMS})

        routes.append(Route("/template", template))
    elif scenario == "session":

        async def session_view(request: t.Any) -> t.Any:
            count = request.session.get("n", 0)
            request.session["n"] = count + 1
            return PlainTextResponse(c.session_answer(count))

        routes.append(Route("/session", session_view))
        middleware.append(Middleware(SessionMiddleware, secret_key=c.SECRET))
    elif scenario == "hooks":

        async def hooks(request: t.Any) -> t.Any:
            return PlainTextResponse(f"hooked:{request.state.user}")

        routes.append(Route("/hooks", hooks))
        middleware.append(Middleware(HookMiddleware))
    elif scenario == "stream":

        async def stream(request: t.Any) -> t.Any:
            return StreamingResponse(c.astream_chunks(), media_type="text/plain")

        routes.append(Route("/stream", stream))
    elif scenario == "ws":

        async def echo_ws(websocket: t.Any) -> None:
            await websocket.accept()
            try:
                while True:  # until the client disconnects
                    await websocket.send_text(await websocket.receive_text())
            except WebSocketDisconnect:
                pass

        routes.append(WebSocketRoute("/ws", echo_ws))
    else:
        raise c.NotSupported(f"unknown scenario {scenario}")
    return Starlette(routes=routes, middleware=middleware)


def build_sync(scenario: str) -> t.Any:
    """Starlette with ``def`` endpoints (run in its thread pool), for the scenarios a ported
    Flask app keeps sync: hello, hooks (the middleware above) and a sync generator stream."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    middleware: list[t.Any] = []
    if scenario == "hello":

        def hello(request: t.Any) -> t.Any:
            return PlainTextResponse(c.HELLO)

        route = Route("/", hello)
    elif scenario == "hooks":

        def hooks(request: t.Any) -> t.Any:
            return PlainTextResponse(f"hooked:{request.state.user}")

        route = Route("/hooks", hooks)
        middleware.append(Middleware(HookMiddleware))
    elif scenario == "stream":

        def stream(request: t.Any) -> t.Any:
            return StreamingResponse(c.stream_chunks(), media_type="text/plain")

        route = Route("/stream", stream)
    else:
        raise c.NotSupported(f"no def variant of {scenario}")
    return Starlette(routes=[route], middleware=middleware)

"""Class-based views: :class:`View` and :class:`MethodView`.

``as_view`` turns a class into a view function for :meth:`Erlen.add_url_rule`. The function is
``async def`` when every handler the class can dispatch to is async (an ASGI server then awaits
it on its loop, without a worker thread), and a plain function otherwise; a plain function may
still return a coroutine (a class mixing sync and async handlers), which both invokers await:
under WSGI on the thread's event loop, under ASGI on the server's loop.
"""

from __future__ import annotations

import inspect
import typing as t
from collections.abc import Callable, Collection

from werkzeug.exceptions import MethodNotAllowed

from . import typing as ft
from .globals import request

#: The handler method names :class:`MethodView` looks for.
http_method_funcs = frozenset(("get", "post", "head", "options", "delete", "put", "trace", "patch"))


class View:
    """Subclass and implement :meth:`dispatch_request` (sync or ``async def``), then register
    ``app.add_url_rule("/path", view_func=MyView.as_view("name"))``.

    By default an instance is created for every request, with the arguments given to
    :meth:`as_view`; set :attr:`init_every_request` to ``False`` to create one and reuse it (it
    must then keep no per-request state on ``self``).
    """

    #: The methods the view accepts (default: ``GET``, plus the automatic HEAD and OPTIONS).
    methods: t.ClassVar[Collection[str] | None] = None
    #: Whether OPTIONS is answered automatically (``None``: per ``PROVIDE_AUTOMATIC_OPTIONS``).
    provide_automatic_options: t.ClassVar[bool | None] = None
    #: Decorators applied, in order, to the function :meth:`as_view` returns.
    decorators: t.ClassVar[list[Callable[..., t.Any]]] = []
    #: Whether each request gets a new instance.
    init_every_request: t.ClassVar[bool] = True

    # (*args too: so that a subclass may name its URL variables, dispatch_request(self, id: int).)
    def dispatch_request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Handle the request; ``kwargs`` are the URL variables. Return what a view returns."""
        raise NotImplementedError(f"{type(self).__name__} must implement dispatch_request().")

    @classmethod
    def _dispatches_async(cls) -> bool:
        """Whether every call of :meth:`dispatch_request` runs async code."""
        return inspect.iscoroutinefunction(cls.dispatch_request)

    @classmethod
    def as_view(cls, name: str, *class_args: t.Any, **class_kwargs: t.Any) -> ft.RouteCallable:
        """A view function named ``name`` (the default endpoint) that dispatches each request to
        an instance made with ``class_args`` and ``class_kwargs``."""
        view: t.Any
        if cls.init_every_request:

            def instance() -> View:
                # Read from the view function, so that a test may swap view.view_class.
                return view.view_class(*class_args, **class_kwargs)  # type: ignore[no-any-return]

        else:
            shared = cls(*class_args, **class_kwargs)

            def instance() -> View:
                return shared

        if cls._dispatches_async():

            async def view(**kwargs: t.Any) -> t.Any:
                rv = instance().dispatch_request(**kwargs)
                return await rv if inspect.isawaitable(rv) else rv

        else:

            def view(**kwargs: t.Any) -> t.Any:
                return instance().dispatch_request(**kwargs)

        # Named before the decorators too: one that wraps with functools.wraps copies the name.
        _name_view(view, cls, name)
        for decorator in cls.decorators:
            view = decorator(view)
        _name_view(view, cls, name)
        view.view_class = cls
        view.methods = cls.methods
        view.provide_automatic_options = cls.provide_automatic_options
        return t.cast(ft.RouteCallable, view)


def _name_view(view: t.Any, cls: type[View], name: str) -> None:
    view.__name__ = name
    view.__qualname__ = name
    view.__doc__ = cls.__doc__
    view.__module__ = cls.__module__


class MethodView(View):
    """Dispatches each request to the method named after the HTTP method: ``get``, ``post``,
    ``put``, ``delete``, ``patch``... (HEAD falls back to ``get``). Handlers may be sync or
    ``async def``, mixed freely. Unless the class sets :attr:`methods`, it is the set of
    handlers defined on the class and its bases.
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        methods: set[str] = set()
        for base in cls.__bases__:
            methods.update(m.upper() for m in getattr(base, "methods", None) or ())
        methods.update(name.upper() for name in http_method_funcs if hasattr(cls, name))
        if methods:
            cls.methods = methods

    def dispatch_request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Call the handler of the request's method with the URL variables."""
        handler = self._handler(request.method)
        if handler is None:
            raise MethodNotAllowed(valid_methods=sorted(self.methods or ()))
        return handler(*args, **kwargs)

    def _handler(self, method: str) -> Callable[..., t.Any] | None:
        name = method.lower()
        if not name.isidentifier() or name.startswith("_"):
            return None
        handler = getattr(self, name, None)
        if handler is None and name == "head":
            handler = getattr(self, "get", None)
        return t.cast("Callable[..., t.Any] | None", handler)

    @classmethod
    def _dispatches_async(cls) -> bool:
        if cls.dispatch_request is not MethodView.dispatch_request:
            return super()._dispatches_async()
        names = {method.lower() for method in cls.methods or ()}
        if "head" in names and not hasattr(cls, "head"):
            names.add("get")  # HEAD is served by get
        handlers = [getattr(cls, name) for name in names if hasattr(cls, name)]
        return bool(handlers) and all(inspect.iscoroutinefunction(h) for h in handlers)

"""Type aliases for views, hooks and the two server protocols."""

from __future__ import annotations

import typing as t
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from werkzeug.datastructures import Headers
    from werkzeug.sansio.response import Response as SansIOResponse

    from .wrappers import Response

# --- the ASGI protocol -------------------------------------------------------------------------
Scope = t.MutableMapping[str, t.Any]
Message = t.MutableMapping[str, t.Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# --- what a view may return --------------------------------------------------------------------
ResponseBody = t.Union[
    "Response",
    "SansIOResponse",
    str,
    bytes,
    bytearray,
    list[t.Any],
    Mapping[str, t.Any],
    Iterable[str | bytes],
    AsyncIterable[str | bytes],
    "WSGIApplication",
]
HeaderValue = t.Union[str, list[str], tuple[str, ...]]
HeadersValue = t.Union[
    "Headers",
    Mapping[str, HeaderValue],
    Sequence[tuple[str, HeaderValue]],
]
#: What a view may return as the body (Flask's name for :data:`ResponseBody`).
ResponseValue = ResponseBody
#: A response class (or a subclass).
ResponseClass = t.TypeVar("ResponseClass", bound="Response")
ResponseReturnValue = t.Union[
    ResponseBody,
    tuple[ResponseBody, HeadersValue],
    tuple[ResponseBody, int | str],
    tuple[ResponseBody, int | str, HeadersValue],
]

# --- registered callables: each may be sync or async -------------------------------------------
RouteCallable = Callable[..., t.Any]
BeforeRequestCallable = Callable[[], t.Any]
AfterRequestCallable = Callable[[t.Any], t.Any]
TeardownCallable = Callable[[BaseException | None], t.Any]
ErrorHandlerCallable = Callable[[t.Any], t.Any]
URLDefaultCallable = Callable[[str, dict[str, t.Any]], None]
URLValuePreprocessorCallable = Callable[[str | None, dict[str, t.Any] | None], None]
TemplateContextProcessorCallable = Callable[[], dict[str, t.Any]]
TemplateFilterCallable = Callable[..., t.Any]
TemplateGlobalCallable = Callable[..., t.Any]
TemplateTestCallable = Callable[..., bool]
ShellContextProcessorCallable = Callable[[], dict[str, t.Any]]
#: Kept for code that still names it: Flask 2.3 removed ``before_first_request``.
BeforeFirstRequestCallable = Callable[[], t.Any]
AppOrBlueprintKey = t.Optional[str]

"""Reading test responses, typed for the tests."""

from __future__ import annotations

import typing as t

from werkzeug.test import TestResponse


def json_body(response: TestResponse) -> t.Any:
    """The response's body parsed as JSON (werkzeug types ``response.json`` as optional, being
    ``None`` for a body that is not JSON: the tests compare it with what they expect)."""
    return response.json

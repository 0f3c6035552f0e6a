"""JSON: the providers (the standard library's and orjson's, held to the same tests), jsonify,
erlen.json.dumps/loads, custom providers and request.get_json."""

from __future__ import annotations

import collections
import dataclasses
import decimal
import json as stdlib_json
import math
import sys
import typing as t
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from markupsafe import Markup
from werkzeug.http import http_date

import erlen.json
from erlen import Erlen, jsonify, render_template_string, request
from erlen.json.provider import DefaultJSONProvider, JSONProvider, OrjsonProvider
from erlen.testing import ErlenClient

PROVIDERS: dict[str, type[DefaultJSONProvider]] = {
    "default": DefaultJSONProvider,
    "orjson": OrjsonProvider,
}


@pytest.fixture(params=list(PROVIDERS))
def app(request: pytest.FixtureRequest) -> Erlen:
    """The conftest app, with each provider in turn."""
    app = Erlen("test_json")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-with-enough-entropy-0123")
    app.json = PROVIDERS[request.param](app)
    return app


@pytest.fixture
def provider(app: Erlen) -> DefaultJSONProvider:
    assert isinstance(app.json, DefaultJSONProvider)
    return app.json


@dataclasses.dataclass
class Address:
    city: str
    since: date


@dataclasses.dataclass
class Person:
    name: str
    tags: list[str]
    address: Address
    id: uuid.UUID = dataclasses.field(default_factory=lambda: uuid.UUID(int=1))


class Html:
    def __html__(self) -> str:
        return "<b>html</b>"


class Unknown:
    pass


Point = collections.namedtuple("Point", "x y")


# --- the provider's rules -----------------------------------------------------------------------


def test_dataclasses(provider: DefaultJSONProvider) -> None:
    person = Person("Ann", ["a"], Address("Oslo", date(2020, 1, 2)))
    assert stdlib_json.loads(provider.dumps(person)) == {
        "name": "Ann",
        "tags": ["a"],
        "address": {"city": "Oslo", "since": "Thu, 02 Jan 2020 00:00:00 GMT"},
        "id": "00000000-0000-0000-0000-000000000001",
    }
    assert stdlib_json.loads(provider.dumps([Address("x", date(2000, 1, 1))])) == [
        {"city": "x", "since": "Sat, 01 Jan 2000 00:00:00 GMT"}
    ]


def test_dataclass_class_is_not_serialized(provider: DefaultJSONProvider) -> None:
    with pytest.raises(TypeError):
        provider.dumps(Person)


@pytest.mark.parametrize(
    "value",
    [
        date(2024, 2, 29),
        datetime(2024, 2, 29, 13, 14, 15),  # naive: taken as UTC
        datetime(2024, 2, 29, 13, 14, 15, 999999, tzinfo=timezone.utc),
        datetime(2024, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),  # the day before in UTC
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ],
)
def test_dates_are_http_dates(provider: DefaultJSONProvider, value: date) -> None:
    assert provider.loads(provider.dumps({"when": value})) == {"when": http_date(value)}


def test_datetime_in_another_zone_is_converted_to_gmt(provider: DefaultJSONProvider) -> None:
    value = datetime(2024, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert provider.loads(provider.dumps(value)) == "Thu, 29 Feb 2024 23:30:00 GMT"


def test_uuid_decimal_html(provider: DefaultJSONProvider) -> None:
    value = {
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "decimal": decimal.Decimal("10.50"),
        "html": Html(),
        "markup": Markup("<i>m</i>"),
    }
    assert provider.loads(provider.dumps(value)) == {
        "uuid": "12345678-1234-5678-1234-567812345678",
        "decimal": "10.50",
        "html": "<b>html</b>",
        "markup": "<i>m</i>",
    }


@pytest.mark.parametrize("value", [Unknown(), {1, 2}, b"bytes", object(), {"nested": [Unknown()]}])
def test_unknown_type_is_a_type_error(provider: DefaultJSONProvider, value: t.Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        provider.dumps(value)


def test_default_argument(provider: DefaultJSONProvider) -> None:
    def default(value: t.Any) -> t.Any:
        if isinstance(value, set):
            return sorted(value)
        raise TypeError("nope")

    assert provider.loads(provider.dumps({"s": {3, 1, 2}}, default=default)) == {"s": [1, 2, 3]}
    with pytest.raises(TypeError):
        provider.dumps(Unknown(), default=default)


def test_default_on_a_subclass(app: Erlen) -> None:
    base = type(app.json)

    class SetProvider(base):  # type: ignore[valid-type, misc]
        @staticmethod
        def default(value: t.Any) -> t.Any:
            if isinstance(value, set):
                return sorted(value)
            return DefaultJSONProvider.default(value)

    provider = SetProvider(app)
    assert provider.loads(provider.dumps({"s": {2, 1}, "d": date(2001, 1, 1)})) == {
        "s": [1, 2],
        "d": "Mon, 01 Jan 2001 00:00:00 GMT",
    }


def test_sort_keys(provider: DefaultJSONProvider) -> None:
    value = {"b": 1, "a": {"d": 1, "c": 2}}
    text = provider.dumps(value)
    assert text.index('"a"') < text.index('"b"')
    assert text.index('"c"') < text.index('"d"')
    provider.sort_keys = False
    text = provider.dumps(value)
    assert text.index('"b"') < text.index('"a"')
    assert text.index('"d"') < text.index('"c"')
    text = provider.dumps(value, sort_keys=True)
    assert text.index('"a"') < text.index('"b"')


def test_ensure_ascii(provider: DefaultJSONProvider) -> None:
    value = {"text": 'é ß 😀 "quoted" \\ \n', "ключ": "ok"}
    text = provider.dumps(value)
    assert text.isascii()
    assert "\\u00e9" in text and "\\ud83d\\ude00" in text and "\\u043a" in text
    assert provider.loads(text) == value
    provider.ensure_ascii = False
    text = provider.dumps(value)
    assert "é ß 😀" in text and "ключ" in text
    assert provider.loads(text) == value
    assert provider.dumps("é", ensure_ascii=True) == '"\\u00e9"'


def test_non_string_keys_like_the_standard_library(provider: DefaultJSONProvider) -> None:
    assert provider.dumps({10: "b", 9: "a"}, separators=(",", ":")) == '{"9":"a","10":"b"}'
    value = {1: "int", 2.5: "float", False: "bool", None: "none"}
    text = provider.dumps(value, sort_keys=False)
    assert provider.loads(text) == {"1": "int", "2.5": "float", "false": "bool", "null": "none"}
    with pytest.raises(TypeError):
        provider.dumps(value)  # sorting keys of several types fails, as in the stdlib


def test_big_integers_stay_exact(provider: DefaultJSONProvider) -> None:
    values = [2**64, -(2**63) - 1, 10**30, 2**63 - 1, -(2**63)]
    text = provider.dumps({"values": values})
    assert provider.loads(text) == {"values": values}
    assert provider.loads(text.encode()) == {"values": values}
    assert provider.loads(b"[123456789012345678901234567890]") == [123456789012345678901234567890]


def test_namedtuples_and_tuples_are_arrays(provider: DefaultJSONProvider) -> None:
    assert provider.loads(provider.dumps({"p": Point(1, 2), "t": (3, (4,))})) == {
        "p": [1, 2],
        "t": [3, [4]],
    }


def test_loads(provider: DefaultJSONProvider) -> None:
    assert provider.loads('{"a": [1, 2.5, null, true, "é"]}') == {"a": [1, 2.5, None, True, "é"]}
    assert provider.loads(b'{"a": 1}') == {"a": 1}
    assert provider.loads(bytearray(b"[1]")) == [1]  # type: ignore[arg-type]  # as json.loads
    assert provider.loads('"\\ud83d\\ude00"') == "😀"
    assert provider.loads('"\\ud800"') == "\ud800"  # a lone surrogate, as the stdlib reads it
    assert math.isnan(provider.loads("NaN"))
    assert provider.loads("[1.5]", parse_float=decimal.Decimal) == [decimal.Decimal("1.5")]
    assert provider.loads('{"a": 1}', object_hook=lambda d: sorted(d)) == ["a"]
    assert provider.loads('{"x": 1}'.encode("utf-16")) == {"x": 1}
    with pytest.raises(ValueError):
        provider.loads("{not json")
    with pytest.raises(ValueError):
        provider.loads(b"")


def test_dumps_standard_library_options(provider: DefaultJSONProvider) -> None:
    value = {"b": [1, 2], "a": None}
    assert provider.dumps(value, indent=4) == stdlib_json.dumps(value, indent=4, sort_keys=True)
    assert provider.dumps(value, separators=(";", "=")) == '{"a"=null;"b"=[1;2]}'
    assert provider.dumps(value, indent=2) == '{\n  "a": null,\n  "b": [\n    1,\n    2\n  ]\n}'
    assert stdlib_json.loads(provider.dumps(value)) == value


def test_providers_agree(app: Erlen) -> None:
    documents: list[t.Any] = [
        {"user": {"id": 7, "name": "Zoë", "roles": ["a", "b"], "score": 0.1}, "ok": True},
        [1, -2, 3.25, None, "", [], {}, {"k": [{"deep": ["x"]}]}],
        {"when": datetime(2020, 5, 17, 8, 0, tzinfo=timezone.utc), "id": uuid.UUID(int=9)},
        "plain string",
        12,
        None,
    ]
    default = DefaultJSONProvider(app)
    for document in documents:
        assert app.json.loads(app.json.dumps(document)) == default.loads(default.dumps(document))
        for debug in (False, True):
            app.debug = debug
            assert app.json.response(document).data == default.response(document).data


# --- responses ----------------------------------------------------------------------------------


def test_response_compact_outside_debug(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return {"b": [1, 2], "a": "x"}

    response = client.get("/")
    assert response.mimetype == "application/json"
    assert response.data == b'{"a":"x","b":[1,2]}\n'
    assert response.json == {"a": "x", "b": [1, 2]}


def test_response_indented_in_debug(app: Erlen, client: ErlenClient) -> None:
    app.debug = True

    @app.route("/")
    def index() -> t.Any:
        return {"b": [1, {}], "a": "x"}

    assert client.get("/").data == b'{\n  "a": "x",\n  "b": [\n    1,\n    {}\n  ]\n}\n'


def test_compact_attribute(app: Erlen, client: ErlenClient, provider: DefaultJSONProvider) -> None:
    @app.route("/")
    def index() -> t.Any:
        return [1]

    provider.compact = False
    assert client.get("/").data == b"[\n  1\n]\n"
    app.debug = True
    provider.compact = True
    assert client.get("/").data == b"[1]\n"


def test_response_ensure_ascii(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return {"name": "Åsa"}

    response = client.get("/")
    assert response.data == b'{"name":"\\u00c5sa"}\n'
    assert response.json == {"name": "Åsa"}


def test_response_follows_settings_changed_at_runtime(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return {"b": "é", "a": 1}

    provider = t.cast(DefaultJSONProvider, app.json)
    assert client.get("/").data == b'{"a":1,"b":"\\u00e9"}\n'
    provider.sort_keys = False
    provider.ensure_ascii = False
    assert client.get("/").data == '{"b":"é","a":1}\n'.encode()


def test_response_uses_a_subclass_dumps(app: Erlen, client: ErlenClient) -> None:
    class Shouting(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return super().dumps(obj, **kwargs).upper()

    app.json = Shouting(app)

    @app.route("/")
    def index() -> t.Any:
        return {"a": "x"}

    assert client.get("/").data == b'{"A":"X"}\n'


def test_response_rules_and_errors(app: Erlen, client: ErlenClient) -> None:
    @app.route("/rules")
    def rules() -> t.Any:
        return {"d": decimal.Decimal("1.10"), "when": date(2021, 6, 1)}

    @app.route("/bad")
    def bad() -> t.Any:
        return {"bad": Unknown()}

    assert client.get("/rules").json == {"d": "1.10", "when": "Tue, 01 Jun 2021 00:00:00 GMT"}
    with pytest.raises(TypeError):
        client.get("/bad")


def test_mimetype_attribute(app: Erlen, client: ErlenClient, provider: DefaultJSONProvider) -> None:
    provider.mimetype = "application/vnd.api+json"

    @app.route("/")
    def index() -> t.Any:
        return jsonify(ok=True)

    response = client.get("/")
    assert response.mimetype == "application/vnd.api+json"
    assert response.json == {"ok": True}


# --- jsonify --------------------------------------------------------------------------------------


def test_jsonify_forms(app: Erlen, client: ErlenClient) -> None:
    @app.route("/one")
    def one() -> t.Any:
        return jsonify({"a": 1})

    @app.route("/scalar")
    def scalar() -> t.Any:
        return jsonify("text")

    @app.route("/several")
    def several() -> t.Any:
        return jsonify(1, "two", [3])

    @app.route("/keywords")
    async def keywords() -> t.Any:
        return jsonify(name="ann", age=3)

    @app.route("/nothing")
    def nothing() -> t.Any:
        return jsonify()

    @app.route("/status")
    def status() -> t.Any:
        return jsonify(error="missing"), 404

    assert client.get("/one").json == {"a": 1}
    assert client.get("/scalar").json == "text"
    assert client.get("/several").json == [1, "two", [3]]
    assert client.get("/keywords").json == {"name": "ann", "age": 3}
    response = client.get("/nothing")
    assert response.data == b"null\n"
    response = client.get("/status")
    assert response.status_code == 404
    assert response.json == {"error": "missing"}
    assert response.mimetype == "application/json"


def test_jsonify_args_and_kwargs_is_an_error(app: Erlen) -> None:
    with app.app_context(), pytest.raises(TypeError):
        jsonify(1, a=2)


def test_jsonify_needs_an_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        jsonify(a=1)


# --- erlen.json.dumps / loads ---------------------------------------------------------------------


def test_module_functions_without_an_app() -> None:
    value = {"when": date(2022, 2, 2), "id": uuid.UUID(int=3), "n": decimal.Decimal("2.5")}
    text = erlen.json.dumps(value)
    assert erlen.json.loads(text) == {
        "when": "Wed, 02 Feb 2022 00:00:00 GMT",
        "id": "00000000-0000-0000-0000-000000000003",
        "n": "2.5",
    }
    assert erlen.json.loads(b"[1, 2]") == [1, 2]
    assert erlen.json.dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    with pytest.raises(TypeError):
        erlen.json.dumps(Unknown())


def test_module_functions_use_the_app_provider(app: Erlen) -> None:
    class Marking(type(app.json)):  # type: ignore[misc]
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            dumped: str = super().dumps(obj, **kwargs)
            return "marked:" + dumped

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return ("loaded", super().loads(s, **kwargs))

    app.json = Marking(app)
    with app.app_context():
        assert erlen.json.dumps([1]) == "marked:[1]"
        assert erlen.json.loads("[1]") == ("loaded", [1])
    assert erlen.json.dumps([1]) == "[1]"  # outside: the default rules, no app
    assert erlen.json.loads("[1]") == [1]


def test_tojson_filter_uses_the_provider(app: Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return render_template_string(
            "<script>var data = {{ data|tojson }};</script>",
            data={"when": date(2020, 1, 1), "html": "</script><b>"},
        )

    text = client.get("/").data.decode()
    assert "Wed, 01 Jan 2020 00:00:00 GMT" in text
    assert "</script><b>" not in text  # escaped for HTML
    assert text.count("</script>") == 1


# --- custom providers and request bodies ----------------------------------------------------------


class DecimalProvider(DefaultJSONProvider):
    """Reads floats as Decimal and writes Decimal as numbers."""

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        kwargs.setdefault("parse_float", decimal.Decimal)
        return super().loads(s, **kwargs)

    @staticmethod
    def default(value: t.Any) -> t.Any:
        if isinstance(value, decimal.Decimal):
            return float(value)
        return DefaultJSONProvider.default(value)


class DecimalApp(Erlen):
    json_provider_class = DecimalProvider


def test_json_provider_class(protocol: str) -> None:
    app = DecimalApp("decimal_app")
    app.testing = True
    assert isinstance(app.json, DecimalProvider)
    seen: list[t.Any] = []

    @app.post("/echo")
    def echo() -> t.Any:
        data = request.get_json()
        seen.append(data)
        return {"total": data["price"] * 2}

    client = app.test_client(asgi=protocol == "asgi")
    response = client.post("/echo", data=b'{"price": 1.10}', content_type="application/json")
    assert seen == [{"price": decimal.Decimal("1.10")}]
    assert response.data == b'{"total":2.2}\n'


def test_get_json_uses_the_app_provider(app: Erlen, client: ErlenClient) -> None:
    class Recording(type(app.json)):  # type: ignore[misc]
        calls: list[bytes] = []

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            self.calls.append(bytes(s) if not isinstance(s, str) else s.encode())
            return super().loads(s, **kwargs)

    app.json = Recording(app)

    @app.post("/")
    async def index() -> t.Any:
        return {"got": request.get_json(), "again": request.json}

    response = client.post("/", json={"n": [1, 2], "big": 2**70})
    assert len(Recording.calls) == 1  # parsed once, then cached
    assert stdlib_json.loads(Recording.calls[0]) == {"n": [1, 2], "big": 2**70}
    body = {"big": 2**70, "n": [1, 2]}
    assert stdlib_json.loads(response.data) == {"got": body, "again": body}


def test_get_json_errors(app: Erlen, client: ErlenClient) -> None:
    @app.post("/")
    def index() -> t.Any:
        return {"silent": request.get_json(silent=True)}

    @app.post("/strict")
    def strict() -> t.Any:
        return {"data": request.get_json()}

    response = client.post("/", data=b"{broken", content_type="application/json")
    assert response.json == {"silent": None}
    response = client.post("/strict", data=b"{broken", content_type="application/json")
    assert response.status_code == 400


def test_a_provider_from_scratch(protocol: str) -> None:
    class Upper(JSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return stdlib_json.dumps(obj, **kwargs).upper()

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return stdlib_json.loads(s, **kwargs)

    app = Erlen("upper")
    app.json = Upper(app)

    @app.route("/")
    def index() -> t.Any:
        return {"a": "b"}

    response = app.test_client(asgi=protocol == "asgi").get("/")
    assert response.data == b'{"A": "B"}'
    assert response.mimetype == "application/json"


# --- OrjsonProvider specifics -------------------------------------------------------------------


def test_orjson_dumps_is_compact() -> None:
    app = Erlen("fast")
    app.json = OrjsonProvider(app)
    assert app.json.dumps({"b": [1, 2], "a": None}) == '{"a":null,"b":[1,2]}'


def test_orjson_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # as if it were not installed
    app = Erlen("fast")
    with pytest.raises(ImportError, match=r"erlen\[fast\]"):
        OrjsonProvider(app)

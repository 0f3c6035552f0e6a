"""Configuration loaders, and the instance folder and resource files."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from erlen import Config, Erlen


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(str(tmp_path), {"KEEP": "default"})


# --- from_pyfile -------------------------------------------------------------------------------


def test_from_pyfile_takes_upper_case_names(config: Config, tmp_path: Path) -> None:
    (tmp_path / "settings.cfg").write_text(
        "import os\nSECRET_KEY = 'abc'\nPORT = 40 + 2\nlower = 'ignored'\n_HIDDEN = 1\n"
    )
    assert config.from_pyfile("settings.cfg") is True
    assert config["SECRET_KEY"] == "abc"
    assert config["PORT"] == 42
    assert "lower" not in config and "os" not in config
    assert config["KEEP"] == "default"


def test_from_pyfile_absolute_path_and_file_variable(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "conf.py"
    path.parent.mkdir()
    path.write_text("HERE = __file__\n")
    config.from_pyfile(path)
    assert config["HERE"] == str(path)


def test_from_pyfile_missing_file_names_it(config: Config, tmp_path: Path) -> None:
    with pytest.raises(OSError) as info:
        config.from_pyfile("missing.cfg")
    message = str(info.value)
    assert "Unable to load configuration file" in message
    assert str(tmp_path / "missing.cfg") in message


def test_from_pyfile_missing_silent(config: Config) -> None:
    assert config.from_pyfile("missing.cfg", silent=True) is False
    assert config.from_pyfile(".", silent=True) is False  # a folder counts as missing


def test_from_pyfile_errors_in_the_file_propagate(config: Config, tmp_path: Path) -> None:
    (tmp_path / "bad.cfg").write_text("X = 1 / 0\n")
    with pytest.raises(ZeroDivisionError):
        config.from_pyfile("bad.cfg", silent=True)


# --- from_file ---------------------------------------------------------------------------------


def test_from_file_json(config: Config, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"DEBUG": True, "NAME": "x", "low": 1}))
    assert config.from_file("config.json", load=json.load) is True
    assert config["DEBUG"] is True and config["NAME"] == "x"
    assert "low" not in config


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
def test_from_file_toml_binary(config: Config, tmp_path: Path) -> None:
    import tomllib  # type: ignore[import-not-found,unused-ignore]  # (mypy checks for 3.10)

    (tmp_path / "config.toml").write_text('SECRET_KEY = "s"\n[DB]\nHOST = "db.local"\n')
    config.from_file("config.toml", load=tomllib.load, text=False)
    assert config["SECRET_KEY"] == "s"
    assert config["DB"] == {"HOST": "db.local"}


def test_from_file_missing(config: Config, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        config.from_file("config.json", load=json.load)
    assert config.from_file("config.json", load=json.load, silent=True) is False


def test_from_file_not_a_mapping(config: Config, tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(TypeError, match="list"):
        config.from_file("list.json", load=json.load)


# --- from_envvar -------------------------------------------------------------------------------


def test_from_envvar(config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prod.cfg").write_text("MODE = 'prod'\n")
    monkeypatch.setenv("APP_SETTINGS", str(tmp_path / "prod.cfg"))
    assert config.from_envvar("APP_SETTINGS") is True
    assert config["MODE"] == "prod"


def test_from_envvar_unset(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_SETTINGS", raising=False)
    with pytest.raises(RuntimeError, match="'APP_SETTINGS' is not set"):
        config.from_envvar("APP_SETTINGS")
    assert config.from_envvar("APP_SETTINGS", silent=True) is False


def test_from_envvar_missing_file(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SETTINGS", "nowhere.cfg")
    with pytest.raises(OSError, match=r"nowhere\.cfg"):
        config.from_envvar("APP_SETTINGS")
    assert config.from_envvar("APP_SETTINGS", silent=True) is False


# --- from_prefixed_env -------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith(("ERLEN_", "MYAPP_")):
            monkeypatch.delenv(key)
    return monkeypatch


def test_from_prefixed_env_parses_json(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERLEN_SECRET_KEY", "plain string")
    clean_env.setenv("ERLEN_DEBUG", "true")
    clean_env.setenv("ERLEN_PORT", "8000")
    clean_env.setenv("ERLEN_HOSTS", '["a", "b"]')
    clean_env.setenv("OTHER_VALUE", "1")
    assert config.from_prefixed_env() is True
    assert config["SECRET_KEY"] == "plain string"
    assert config["DEBUG"] is True
    assert config["PORT"] == 8000
    assert config["HOSTS"] == ["a", "b"]
    assert "VALUE" not in config and "OTHER_VALUE" not in config


def test_from_prefixed_env_nested(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    config["DB"] = {"USER": "kept"}
    clean_env.setenv("ERLEN_DB__HOST", "db.local")
    clean_env.setenv("ERLEN_DB__PORT", "5432")
    clean_env.setenv("ERLEN_CACHE__REDIS__URL", "redis://x")
    config.from_prefixed_env()
    assert config["DB"] == {"USER": "kept", "HOST": "db.local", "PORT": 5432}
    assert config["CACHE"] == {"REDIS": {"URL": "redis://x"}}


def test_from_prefixed_env_nested_under_non_dict(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    config["DB"] = "sqlite://"
    clean_env.setenv("ERLEN_DB__HOST", "x")
    with pytest.raises(TypeError, match="ERLEN_DB__HOST"):
        config.from_prefixed_env()


def test_from_prefixed_env_prefix_and_loads(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MYAPP_NAME", "n")
    clean_env.setenv("ERLEN_NAME", "ignored")
    config.from_prefixed_env("MYAPP", loads=str.upper)
    assert config["NAME"] == "N"


def test_from_prefixed_env_keeps_string_when_loads_fails(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("ERLEN_URL", "http://x")
    config.from_prefixed_env()
    assert config["URL"] == "http://x"


# --- the app's config and instance folder ------------------------------------------------------


def test_app_config_relative_to_root_path(tmp_path: Path) -> None:
    (tmp_path / "app.cfg").write_text("GREETING = 'hi'\n")
    app = Erlen("demo", root_path=str(tmp_path))
    app.config.from_pyfile("app.cfg")
    assert app.config["GREETING"] == "hi"


def test_instance_relative_config(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "app.cfg").write_text("WHERE = 'instance'\n")
    app = Erlen("demo", root_path=str(tmp_path), instance_relative_config=True)
    assert app.instance_path == str(instance)
    app.config.from_pyfile("app.cfg")
    assert app.config["WHERE"] == "instance"


def test_instance_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        Erlen("demo", instance_path="relative/instance")


def test_open_resource(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE ü;\n", encoding="utf-8")
    app = Erlen("demo", root_path=str(tmp_path))
    with app.open_resource("schema.sql") as file:
        assert file.read() == "CREATE TABLE ü;\n".encode()
    with app.open_resource("schema.sql", "r") as file:
        assert file.read() == "CREATE TABLE ü;\n"
    with app.open_resource("schema.sql", "rt", encoding="latin-1") as file:
        assert file.read() == "CREATE TABLE Ã¼;\n"


@pytest.mark.parametrize("mode", ["w", "wb", "a", "r+", "rb+", "x"])
def test_open_resource_is_read_only(tmp_path: Path, mode: str) -> None:
    app = Erlen("demo", root_path=str(tmp_path))
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("new.txt", mode)
    assert not (tmp_path / "new.txt").exists()


def test_open_instance_resource_reads_and_writes(tmp_path: Path) -> None:
    instance = tmp_path / "var"
    instance.mkdir()
    app = Erlen("demo", root_path=str(tmp_path), instance_path=str(instance))
    with app.open_instance_resource("state.txt", "w") as file:
        file.write("saved")
    assert (instance / "state.txt").read_text() == "saved"
    with app.open_instance_resource("state.txt") as file:
        assert file.read() == b"saved"
    with app.open_instance_resource("state.txt", "r") as file:
        assert file.read() == "saved"


def test_open_instance_resource_missing(tmp_path: Path) -> None:
    app = Erlen("demo", root_path=str(tmp_path))
    with pytest.raises(FileNotFoundError):
        app.open_instance_resource("missing.txt")

"""``.erlenenv`` and ``.env`` files (``.flaskenv`` too), loaded into ``os.environ``."""

from __future__ import annotations

import os


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Load ``.flaskenv``, ``.erlenenv`` then ``.env`` from the current folder, then ``path``,
    into ``os.environ``; later files win, variables already set are kept. Needs python-dotenv
    (without it nothing is loaded and this returns ``False``). Returns whether a file was read.
    """
    try:
        import dotenv
    except ImportError:
        return False
    files: list[str | os.PathLike[str]] = (
        [".flaskenv", ".erlenenv", ".env"] if load_defaults else []
    )
    if path is not None:
        files.append(path)
    values: dict[str, str] = {}
    loaded = False
    for file in files:
        if os.path.isfile(file):
            loaded = True
            values.update((k, v) for k, v in dotenv.dotenv_values(file).items() if v is not None)
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return loaded

"""The code that replaces a dependency's own for speed, fenced in one package.

erlen is built on werkzeug, itsdangerous and Jinja2 and keeps their behaviour. Where a benchmark
showed one of their functions to be a cost on every request (bench/RESULTS.md), this package
holds a faster one. The rules of the fence:

- each module's docstring names the upstream callable it must agree with, and a property-based
  test in ``tests/speedups/`` proves it agrees, with the upstream callable as the oracle;
- every private attribute of werkzeug that erlen reads or writes is read or written here, and
  nowhere else (``tests/import_contracts.py`` checks it; ``tests/speedups/test_werkzeug_private.py``
  lists them, and pyproject.toml bounds werkzeug below its next minor release for them);
- nothing here imports the rest of erlen: the package sits below every layer;
- :data:`ENABLED` is the switch: with ``ERLEN_SPEEDUPS=0`` in the environment when erlen is
  imported, erlen calls the upstream callables instead (``make test`` runs the behavioural
  tests once that way).

Modules: :mod:`.headers` (request headers without an exception per miss nor a check per value,
and werkzeug's header list), :mod:`.response_init` (``Response.__init__``),
:mod:`.dynamic_routes` and :mod:`.route_shortcuts` (``MapAdapter.match``), :mod:`.forms` (form
body parsing), :mod:`.signing` (the session cookie's signature), :mod:`.cookies` (the session
cookie's ``Set-Cookie``), :mod:`.http_date` and :mod:`.proxy` (the context-local proxies),
:mod:`.template_context` (Jinja2's ``Template.new_context``), :mod:`.json_encode` (the standard
library's compact ``JSONEncoder.encode``), :mod:`.cached_attribute` (werkzeug's
``cached_property``).
"""

from __future__ import annotations

import os

#: Whether erlen uses this package (``ERLEN_SPEEDUPS=0`` or ``false`` turns it off). Read once,
#: when erlen is imported: each user of a speedup picks its implementation then.
ENABLED: bool = os.environ.get("ERLEN_SPEEDUPS", "1").strip().lower() not in {
    "0",
    "false",
    "no",
    "off",
}

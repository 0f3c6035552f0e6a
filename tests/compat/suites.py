"""Run Flask's own test suite, its examples' and the main extensions' suites against erlen.

Each suite is fetched as an sdist from the package index at run time (nothing of theirs is
committed), installed with its test dependencies into a venv of its own under ``.compat/``,
and run twice with pytest: on the real Flask, then on erlen through ``-p erlen.flask_alias``.
A suite's figure is the share of the tests that pass on Flask that also pass on erlen.

    python tests/compat/suites.py            # every suite; exit status 1 below a minimum
    python tests/compat/suites.py flask-login --show-failures

``make compat`` runs it (``make test`` too). The table goes to stdout and, with ``--output``,
to a Markdown file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".compat"
#: Per run of one suite on one framework.
SUITE_TIMEOUT = 240

#: What the suites need besides their sdists; pytest 9 removed names Flask's suite imports.
TEST_REQUIREMENTS = [
    "pytest>=8,<9",
    "python-dotenv>=1",
    "asgiref>=3.7",
    "flask-babel>=4",
    "hiro>0.1.6",
    "redis>=5",
    "flask-restful>=0.3.10",
    "flask-restx>=1.3",
    "pymemcache>=4",
    "pymongo>=4",
    "pytest-mock>=3",
    "semantic-version>=2.10",
]


@dataclasses.dataclass(frozen=True)
class Suite:
    """One test suite: the sdist that holds it, where its tests are, and the minimum share."""

    name: str
    sdist: str  #: a requirement pinned to one release ("flask==3.1.3")
    tests: tuple[str, ...]  #: paths inside the unpacked sdist
    minimum: float
    #: Run from this folder of the sdist, which is put on sys.path (the examples' packages).
    folder: str = ""
    install: bool = True  #: whether the sdist itself is installed (an extension)


FLASK = "flask==3.1.3"
SUITES = (
    Suite("flask", FLASK, ("tests",), 0.95, install=False),
    Suite("flask-tutorial", FLASK, ("tests",), 1.0, folder="examples/tutorial", install=False),
    Suite("flask-javascript", FLASK, ("tests",), 1.0, folder="examples/javascript", install=False),
    Suite("flask-login", "flask-login==0.6.3", ("tests",), 0.98),
    Suite("flask-wtf", "flask-wtf==1.3.0", ("tests",), 0.98),
    Suite("flask-sqlalchemy", "flask-sqlalchemy==3.1.1", ("tests",), 0.98),
    Suite("flask-cors", "flask-cors==6.0.5", ("tests",), 0.98),
    Suite("flask-limiter", "flask-limiter==4.1.1", ("tests",), 0.98),
    Suite("flask-migrate", "flask-migrate==4.1.0", ("tests",), 0.98),
)


@dataclasses.dataclass
class Outcome:
    """The tests of one run, by outcome."""

    passed: set[str]
    failed: set[str]
    seconds: float


def _python() -> Path:
    return WORK / "venv" / "bin" / "python"


def _pip(*args: str) -> None:
    subprocess.run([str(_python()), "-m", "pip", "install", "--quiet", *args], check=True)


def prepare(suites: list[Suite]) -> None:
    """The venv with Flask, the extensions, their test dependencies and erlen (editable)."""
    if not _python().exists():
        venv.create(WORK / "venv", with_pip=True)
    extensions = [suite.sdist for suite in suites if suite.install]
    _pip(FLASK, *extensions, *TEST_REQUIREMENTS, "-e", str(ROOT))


def _shim() -> Path:
    """A folder with a ``flask`` command that is ``erlen`` with the alias on."""
    folder = WORK / "shim"
    command = folder / "flask"
    if not command.exists():
        folder.mkdir(parents=True, exist_ok=True)
        erlen = _python().parent / "erlen"
        command.write_text(f'#!/bin/sh\nERLEN_FLASK_ALIAS=1 exec "{erlen}" "$@"\n')
        command.chmod(0o755)
    return folder


def unpacked(requirement: str) -> Path:
    """The folder of ``requirement``'s sdist, downloaded and unpacked on first use."""
    downloads = WORK / "sdists"
    name, _, version = requirement.partition("==")
    for found in downloads.glob("*.tar.gz") if downloads.exists() else ():
        if found.name.lower().replace("_", "-").startswith(f"{name}-{version}".lower()):
            break
    else:
        subprocess.run(
            [str(_python()), "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", "--dest", str(downloads), requirement],
            check=True,
        )  # fmt: skip
        return unpacked(requirement)
    target = WORK / "src" / found.name.removesuffix(".tar.gz")
    if not target.exists():
        with tarfile.open(found) as archive:
            archive.extractall(WORK / "src", filter="data")
    return target


def run(suite: Suite, alias: bool) -> Outcome:
    """One run of ``suite``: on Flask, or on erlen with ``alias``."""
    folder = unpacked(suite.sdist) / suite.folder
    report = WORK / "reports" / f"{suite.name}-{'erlen' if alias else 'flask'}.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    command = [str(_python()), "-m", "pytest", *suite.tests, "-q", "-p", "no:cacheprovider"]
    command += ["-o", "addopts=", f"--junitxml={report}", "--rootdir", str(folder)]
    if alias:
        command += ["-p", "erlen.flask_alias"]
    # The suites that run the `flask` command get erlen's, with the alias on.
    path = [str(_shim()) if alias else "", str(_python().parent), os.environ.get("PATH", "")]
    env = {**os.environ, "PYTHONPATH": str(folder), "PATH": os.pathsep.join(filter(None, path))}
    for variable in [name for name in env if name.startswith(("ERLEN_", "FLASK_"))]:
        del env[variable]
    started = time.monotonic()
    with contextlib.suppress(subprocess.TimeoutExpired):  # then the report counts as it is
        subprocess.run(
            command, cwd=folder, env=env, timeout=SUITE_TIMEOUT, check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    seconds = time.monotonic() - started
    return Outcome(*_read_report(report), seconds=seconds)


def _read_report(report: Path) -> tuple[set[str], set[str]]:
    passed: set[str] = set()
    failed: set[str] = set()
    if not report.exists():
        return passed, failed
    for case in ElementTree.parse(report).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcomes = {child.tag for child in case}
        if outcomes & {"failure", "error"}:
            failed.add(test)
        elif "skipped" not in outcomes:
            passed.add(test)
    return passed, failed


@dataclasses.dataclass
class Figure:
    suite: Suite
    on_flask: Outcome
    on_erlen: Outcome

    @property
    def kept(self) -> set[str]:
        return self.on_flask.passed & self.on_erlen.passed

    @property
    def share(self) -> float:
        return len(self.kept) / len(self.on_flask.passed) if self.on_flask.passed else 0.0

    @property
    def ok(self) -> bool:
        return bool(self.on_flask.passed) and self.share >= self.suite.minimum


def table(figures: list[Figure]) -> str:
    lines = [
        "| suite | pass on Flask | pass on erlen | share | minimum | seconds (Flask, erlen) |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.suite.name} ({figure.suite.sdist}) | {len(figure.on_flask.passed)}"
            f" | {len(figure.kept)} | {figure.share:.1%} | {figure.suite.minimum:.0%}"
            f" | {figure.on_flask.seconds:.0f}, {figure.on_erlen.seconds:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("names", nargs="*", help="suites to run (default: all)")
    parser.add_argument("--show-failures", action="store_true", help="list the tests lost")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    parser.add_argument("--clean", action="store_true", help="start from a new venv")
    options = parser.parse_args()
    suites = [suite for suite in SUITES if not options.names or suite.name in options.names]
    if options.clean:
        shutil.rmtree(WORK, ignore_errors=True)
    prepare(suites)
    figures = [Figure(suite, run(suite, alias=False), run(suite, alias=True)) for suite in suites]
    if options.show_failures:
        for figure in figures:
            for test in sorted(figure.on_flask.passed - figure.kept):
                print(f"lost in {figure.suite.name}: {test}")
    text = table(figures)
    print(text)
    if options.output:
        options.output.write_text(text + "\n")
    short = [figure.suite.name for figure in figures if not figure.ok]
    if short:
        print(f"below the minimum: {', '.join(short)}", file=sys.stderr)
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())

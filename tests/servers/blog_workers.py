"""The example blog as the workers of one server serve it (tests/servers/test_blog_workers.py):
its instance folder from ``BLOG_INSTANCE_PATH``, and each response naming its worker's PID."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "blog"))

from blog import create_app

from erlen import Response

app = create_app(instance_path=os.environ["BLOG_INSTANCE_PATH"])


@app.after_request
def name_the_worker(response: Response) -> Response:
    response.headers["X-Worker"] = str(os.getpid())
    return response

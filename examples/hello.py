"""The smallest erlen app: ``python examples/hello.py`` serves it on http://127.0.0.1:5000/."""

from erlen import Erlen, request

app = Erlen(__name__)


@app.get("/")
def hello() -> str:
    name = request.args.get("name", "World")
    return f"Hello, {name}!"


@app.get("/users/<int:user_id>")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


if __name__ == "__main__":
    app.run()

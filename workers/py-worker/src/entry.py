"""The Python half of cfprobe's route contract.

workers/js-worker serves the same routes with the same statuses and bodies, so one check suite
probes both. Starlette handles the routing; the Workers runtime's ASGI bridge passes each request
in and puts the bindings in ``request.scope["env"]``. D1 is reached through Pyodide's JS bridge.
"""

from html import escape
from urllib.parse import parse_qs

import asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route
from workers import WorkerEntrypoint

RUNTIME = "Python"

COUNTER_TABLE = """CREATE TABLE IF NOT EXISTS page_views (
  page TEXT PRIMARY KEY,
  count INTEGER NOT NULL DEFAULT 0
)"""

# One statement increments and returns the new value, so concurrent hits never read a stale count.
COUNTER_UPSERT = """INSERT INTO page_views (page, count) VALUES (?, 1)
  ON CONFLICT(page) DO UPDATE SET count = count + 1
  RETURNING count"""

FORM_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Message form</title></head>
<body>
<h1>Send a message</h1>
<form method="post" action="/form">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" required>
  <label for="message">Message</label>
  <textarea id="message" name="message" required></textarea>
  <button type="submit">Send</button>
</form>
</body>
</html>
"""

RESULT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Message received</title></head>
<body>
<h1>Message received</h1>
<p>Name: <span id="name">{name}</span></p>
<p>Message: <span id="message">{message}</span></p>
<p><a href="/form">Send another</a></p>
</body>
</html>
"""

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"


def text(body, status=200):
    return PlainTextResponse(body, status_code=status, media_type=TEXT)


async def hello(request: Request):
    return text(f"Hello from the {RUNTIME} worker!\n")


async def form_page(request: Request):
    return HTMLResponse(FORM_PAGE, media_type=HTML)


async def form_submit(request: Request):
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return text("Send the form as application/x-www-form-urlencoded.\n", 415)
    # Parsed by hand: Starlette's request.form() needs python-multipart, which the runtime lacks.
    fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
    values = {field: fields.get(field, [""])[0] for field in ("name", "message")}
    missing = [field for field, value in values.items() if not value.strip()]
    if missing:
        return text(f"Missing field: {', '.join(missing)}\n", 400)
    page = RESULT_PAGE.format(
        name=escape(values["name"], quote=True).replace("&#x27;", "&#39;"),
        message=escape(values["message"], quote=True).replace("&#x27;", "&#39;"),
    )
    return HTMLResponse(page, media_type=HTML)


async def counter(request: Request):
    db = request.scope["env"].DB
    await db.prepare(COUNTER_TABLE).run()
    row = await db.prepare(COUNTER_UPSERT).bind("counter").first()
    return JSONResponse(
        {"page": "counter", "count": int(row.count)},
        media_type="application/json; charset=utf-8",
    )


async def not_found(request: Request, exc):
    if exc.status_code == 405:
        return text(f"Method {request.method} is not allowed on {request.url.path}.\n", 405)
    return text(f"Not found: {request.url.path}\n", 404)


app = Starlette(
    routes=[
        Route("/", hello, methods=["GET"]),
        Route("/hello", hello, methods=["GET"]),
        Route("/form", form_page, methods=["GET"]),
        Route("/form", form_submit, methods=["POST"]),
        Route("/counter", counter, methods=["GET"]),
    ],
    exception_handlers={404: not_found, 405: not_found},
)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request.js_object, self.env)

"""The ``asgi`` bridge of the Python Workers runtime: serves a Worker request with an ASGI app.

``await asgi.fetch(app, request, env)`` turns the JavaScript request into an ASGI HTTP scope (the
bindings travel in ``scope["env"]``), runs the app, and returns a JavaScript Response. A body sent
in one message is answered in one piece; a body sent in several messages is streamed as the app
produces it.
"""

import asyncio
import logging
from urllib.parse import unquote

import js
from pyodide.ffi import to_js

logger = logging.getLogger("asgi")

ASGI = {"version": "3.0", "spec_version": "2.3"}

# The lifespan of each app runs once, at its first request, and stays up while the worker runs.
_started_apps = {}


def _latin1(text):
    return text.encode("latin-1", errors="replace")


def request_to_scope(req, env):
    url = js.URL.new(req.url)
    headers = [(_latin1(key.lower()), _latin1(value)) for key, value in req.headers.entries()]
    port = int(url.port) if url.port else (443 if url.protocol == "https:" else 80)
    return {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": req.method,
        "scheme": url.protocol[:-1],
        "path": unquote(url.pathname),
        "raw_path": _latin1(url.pathname),
        "query_string": _latin1(url.search[1:]),
        "root_path": "",
        "headers": headers,
        "client": None,
        "server": (url.hostname, port),
        "env": env,
    }


async def _start_lifespan(app):
    started = asyncio.get_running_loop().create_future()
    messages = asyncio.Queue()
    await messages.put({"type": "lifespan.startup"})

    async def receive():
        return await messages.get()

    async def send(message):
        kind = message["type"]
        if kind == "lifespan.startup.complete" and not started.done():
            started.set_result(None)
        elif kind == "lifespan.startup.failed" and not started.done():
            started.set_exception(RuntimeError(message.get("message", "ASGI lifespan startup failed")))

    async def run():
        try:
            await app({"type": "lifespan", "asgi": ASGI, "state": {}}, receive, send)
        except Exception:
            # An app without lifespan support may raise on the lifespan scope; that is allowed.
            pass
        if not started.done():
            started.set_result(None)

    _started_apps[id(app)] = (app, asyncio.ensure_future(run()))
    await started


def _js_headers(pairs):
    headers = js.Headers.new()
    for key, value in pairs:
        headers.append(key.decode("latin-1"), value.decode("latin-1"))
    return headers


async def fetch(app, req, env, ctx=None):
    if hasattr(req, "js_object"):
        req = req.js_object
    if id(app) not in _started_apps:
        await _start_lifespan(app)

    body = (await req.arrayBuffer()).to_bytes() if req.body else b""
    requested = False
    finished = asyncio.Event()

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    loop = asyncio.get_running_loop()
    response = loop.create_future()
    start = None
    writer = None

    async def send(message):
        nonlocal start, writer
        kind = message["type"]
        if kind == "http.response.start":
            start = message
            return
        if kind != "http.response.body" or start is None:
            return
        chunk = bytes(message.get("body", b""))
        more = message.get("more_body", False)
        if writer is None and not more:
            init = to_js(
                {"status": start["status"], "headers": _js_headers(start.get("headers", []))},
                dict_converter=js.Object.fromEntries,
            )
            response.set_result(js.Response.new(to_js(chunk) if chunk else None, init))
            finished.set()
            return
        if writer is None:
            stream = js.TransformStream.new()
            writer = stream.writable.getWriter()
            init = to_js(
                {"status": start["status"], "headers": _js_headers(start.get("headers", []))},
                dict_converter=js.Object.fromEntries,
            )
            response.set_result(js.Response.new(stream.readable, init))
        if chunk:
            await writer.write(to_js(chunk))
        if not more:
            await writer.close()
            finished.set()

    async def run_app():
        try:
            await app(request_to_scope(req, env), receive, send)
            if not response.done():
                raise RuntimeError("The ASGI application returned without sending a response")
        except Exception as error:
            finished.set()
            if not response.done():
                response.set_exception(error)
            else:
                logger.exception("Exception in ASGI application after the response started")
                if writer is not None:
                    await writer.abort(str(error))

    task = asyncio.ensure_future(run_app())
    result = await response
    if writer is None:
        await task
    elif ctx is not None:
        ctx.waitUntil(task)
    return result

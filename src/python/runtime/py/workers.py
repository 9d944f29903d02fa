"""The ``workers`` module of the Python Workers runtime, as cfprobe's Pyodide runtime provides it.

It follows the public API of the module workerd gives Python Workers (``WorkerEntrypoint`` with
``self.env`` and ``self.ctx``, ``Request``, ``Response``, ``FormData``, ``fetch``, ``handler``) so
that a worker runs unchanged. Objects stay thin wrappers around the JavaScript ones (Node's fetch
API), exactly as in workerd.
"""

import functools
import http.client
import json
from http import HTTPMethod, HTTPStatus
from typing import Any, Protocol

import js
from pyodide.ffi import JsException, JsProxy, to_js
from pyodide.http import FetchResponse, pyfetch

import _cfprobe_host


class Context(Protocol):
    def waitUntil(self, awaitable: Any) -> None: ...


def _is_js(value, class_name):
    return isinstance(value, JsProxy) and getattr(getattr(value, "constructor", None), "name", None) == class_name


def _js_object(mapping):
    return to_js(mapping, dict_converter=js.Object.fromEntries)


def _js_headers(headers):
    if headers is None:
        return js.Headers.new()
    if _is_js(headers, "Headers"):
        return headers
    pairs = headers.items() if isinstance(headers, dict) else headers
    result = js.Headers.new()
    for key, value in pairs:
        result.append(str(key), str(value))
    return result


def _js_body(body):
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray, memoryview)):
        return to_js(bytes(body))
    if isinstance(body, FormData):
        return body.js_object
    if isinstance(body, JsProxy):
        return body
    raise TypeError(f"Unsupported type in Response: {type(body).__name__}")


def _options(status=None, status_text="", headers=None):
    options = {}
    if status is not None:
        options["status"] = int(status)
    if status_text:
        options["statusText"] = status_text
    if headers is not None:
        options["headers"] = _js_headers(headers)
    return options


class _JsonMethod:
    """``Response.json(data)`` builds a JSON response; ``await response.json()`` reads one."""

    def __get__(self, instance, owner):
        if instance is None:
            return owner.from_json
        return functools.partial(FetchResponse.json, instance)


class Response(FetchResponse):
    def __init__(self, body=None, status=None, status_text="", headers=None):
        if _is_js(body, "Response"):
            if status is not None or status_text or headers is not None:
                raise ValueError("Expected no options when constructing Response from a js.Response")
            super().__init__(body.url, body)
            return
        js_response = js.Response.new(_js_body(body), _js_object(_options(status, status_text, headers)))
        super().__init__(js_response.url, js_response)

    json = _JsonMethod()

    @classmethod
    def from_json(cls, data, status=HTTPStatus.OK, status_text="", headers=None):
        js_headers = _js_headers(headers)
        if not js_headers.has("content-type"):
            js_headers.set("content-type", "application/json")
        return cls(json.dumps(data), status=status, status_text=status_text, headers=js_headers)

    @staticmethod
    def redirect(url, status=HTTPStatus.FOUND):
        return Response(js.Response.redirect(url, int(status)))

    @property
    def js_object(self):
        return self.js_response

    @property
    def body(self):
        return self.js_response.body

    def __repr__(self):
        return f"Response(status={self.status})"


class Request:
    def __init__(self, input, **options):
        if _is_js(input, "Request"):
            if options:
                raise ValueError("Expected no options when constructing Request from a js.Request")
            self._js_request = input
            return
        if isinstance(options.get("method"), HTTPMethod):
            options["method"] = options["method"].value
        if "headers" in options:
            options["headers"] = _js_headers(options["headers"])
        if "body" in options:
            options["body"] = _js_body(options["body"])
        source = input.js_object if isinstance(input, Request) else input
        self._js_request = js.Request.new(source, _js_object(options))

    def __repr__(self):
        return f"Request(method={self._js_request.method!r}, url={self._js_request.url!r})"

    @property
    def js_object(self):
        return self._js_request

    @property
    def method(self):
        return HTTPMethod[self._js_request.method]

    @property
    def url(self):
        return self._js_request.url

    @property
    def headers(self):
        message = http.client.HTTPMessage()
        for key, value in self._js_request.headers.entries():
            message[key] = value.strip()
        return message

    @property
    def body(self):
        return self._js_request.body

    @property
    def body_used(self):
        return self._js_request.bodyUsed

    def _check_body(self):
        if self.body_used:
            raise OSError("Body already used")

    async def buffer(self):
        self._check_body()
        return await self._js_request.arrayBuffer()

    async def bytes(self):
        return (await self.buffer()).to_bytes()

    async def text(self):
        self._check_body()
        return await self._js_request.text()

    async def json(self, **kwargs):
        return json.loads(await self.text(), **kwargs)

    async def form_data(self):
        self._check_body()
        return FormData(await self._js_request.formData())

    def clone(self):
        self._check_body()
        return Request(self._js_request.clone())


class FormData:
    """A mapping over a JavaScript FormData."""

    def __init__(self, form_data=None):
        if form_data is None or isinstance(form_data, dict):
            self._js_form_data = js.FormData.new()
            for key, value in (form_data or {}).items():
                self._js_form_data.append(key, value)
        elif _is_js(form_data, "FormData"):
            self._js_form_data = form_data
        else:
            raise TypeError("Expected form_data to be a dict or an instance of FormData")

    @property
    def js_object(self):
        return self._js_form_data

    def __getitem__(self, key):
        if not self._js_form_data.has(key):
            raise KeyError(key)
        return self._js_form_data.get(key)

    def __setitem__(self, key, value):
        self._js_form_data.set(key, value)

    def __delitem__(self, key):
        self._js_form_data.delete(key)

    def __contains__(self, key):
        return self._js_form_data.has(key)

    def __iter__(self):
        return iter(list(self._js_form_data.keys()))

    def __len__(self):
        return len(list(self._js_form_data.keys()))

    def get(self, key, default=None):
        return self[key] if key in self else default

    def get_all(self, key):
        return list(self._js_form_data.getAll(key))

    def append(self, key, value, filename=None):
        self._js_form_data.append(key, value, filename)

    def keys(self):
        return list(self._js_form_data.keys())

    def items(self):
        return [(key, value) for key, value in self._js_form_data.entries()]


async def fetch(resource, **options):
    """Outbound fetch through Node's fetch (only loopback is reachable where cfprobe runs offline)."""
    if isinstance(resource, Request):
        resource = resource.js_object
    if isinstance(options.get("method"), HTTPMethod):
        options["method"] = options["method"].value
    if "headers" in options:
        options["headers"] = _js_headers(options["headers"])
    response = await pyfetch(resource, **options)
    return Response(response.js_response)


def handler(func):
    """Turns the JavaScript request passed to an ``on_fetch`` handler into a ``Request``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if args and _is_js(args[0], "Request"):
            args = (Request(args[0]), *args[1:])
        return func(*args, **kwargs)

    return wrapper


class WorkerEntrypoint:
    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


class DurableObject:
    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


class WorkflowEntrypoint:
    def __init__(self, ctx, env):
        self.ctx = ctx
        self.env = env


def import_from_javascript(module_name):
    if module_name == "cloudflare:workers":
        return _cfprobe_host.cloudflare_workers()
    raise ImportError(f"Failed to import '{module_name}': cfprobe's Pyodide runtime provides only 'cloudflare:workers'")


def python_to_rpc(value):
    return to_js(value, dict_converter=js.Map.new)


def python_from_rpc(value):
    return value.to_py() if isinstance(value, JsProxy) else value


def __getattr__(name):
    if name == "env":
        return _cfprobe_host.cloudflare_workers().env
    if name == "waitUntil":
        return _cfprobe_host.cloudflare_workers().waitUntil
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Context",
    "DurableObject",
    "FormData",
    "JsException",
    "Request",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "fetch",
    "handler",
    "import_from_javascript",
    "python_from_rpc",
    "python_to_rpc",
]

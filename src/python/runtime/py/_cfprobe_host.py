"""cfprobe's side of the Pyodide runtime: loads the worker's entry module and serves requests.

The Node host calls ``load`` once and ``serve`` per request; stdlib modules the npm package lacks
get placeholders that import but raise a clear error as soon as they are used.
"""

import asyncio
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import logging
import sys
import types

from pyodide.ffi import JsProxy

_state = {}
_background = set()
logger = logging.getLogger("workers")


class ExecutionContext:
    """``self.ctx``: waitUntil keeps work (a coroutine, task or JS promise) running after the
    response is sent, and logs it if it fails, as the Workers runtime does."""

    def waitUntil(self, awaitable):
        task = asyncio.ensure_future(awaitable)
        _background.add(task)
        task.add_done_callback(_background_done)

    def passThroughOnException(self):
        pass


def _background_done(task):
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("A waitUntil task failed", exc_info=task.exception())


class UnavailableModuleError(ImportError):
    """Raised on use of a stdlib module the npm pyodide package lacks (a plain ImportError, so that
    Pyodide does not append its "install it with micropip" advice, which cannot work offline)."""


def _unavailable(module_name, attribute):
    message = (
        f"{module_name}.{attribute} is not available on cfprobe's Pyodide runtime: the npm pyodide "
        f"package does not include the {module_name!r} module (workerd downloads it separately). "
        "Run this worker under workerd (cfprobe dev --runtime workerd) to use it."
    )

    def fail(*_args, **_kwargs):
        raise UnavailableModuleError(message)

    # A class, so that annotations, isinstance() and `except module.SomeError:` still work at import
    # time; creating or calling it is the use that fails.
    base = Exception if attribute.endswith(("Error", "Exception", "Warning")) else object
    placeholder = type(attribute, (base,), {"__new__": fail, "__module__": module_name})
    return placeholder


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        value = _unavailable(self.__name__, attribute)
        setattr(self, attribute, value)
        return value


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in self.names:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return _PlaceholderModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def install_placeholders(names):
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    sys.meta_path.append(_PlaceholderFinder(missing))
    return missing


def load(module_name):
    module = importlib.import_module(module_name)
    import workers

    default = getattr(module, "Default", None)
    if inspect.isclass(default) and hasattr(default, "fetch"):
        kind = "entrypoint"
    elif callable(getattr(module, "on_fetch", None)):
        kind = "on_fetch"
    else:
        raise TypeError(
            f"{module_name} defines no fetch handler: expected `class Default(WorkerEntrypoint)` "
            "with an `async def fetch(self, request)` method, or a module-level `on_fetch`."
        )
    _state.update(module=module, kind=kind, workers=workers)
    return kind


def set_env(env):
    _state["env"] = env


def cloudflare_workers():
    return types.SimpleNamespace(env=_state["env"], waitUntil=ExecutionContext().waitUntil)


async def serve(js_request):
    module, workers, env = _state["module"], _state["workers"], _state["env"]
    ctx = ExecutionContext()
    if _state["kind"] == "entrypoint":
        result = module.Default(ctx, env).fetch(workers.Request(js_request))
    else:
        handler = module.on_fetch
        arity = len(inspect.signature(handler).parameters)
        result = handler(*(js_request, env, ctx)[: max(arity, 1)])
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, workers.Response):
        return result.js_object
    if isinstance(result, JsProxy) and getattr(result.constructor, "name", None) == "Response":
        return result
    raise TypeError(f"The fetch handler returned {type(result).__name__}, not a Response")


"""The mcs-pkg driver host for Python drivers (docs/host-protocol.md).

Started by mcs-pkg as ``python3 -I -S -B mcs_host.py MAX_MESSAGE_BYTES`` under
the confinement its client chose (bubblewrap, a network namespace, a scrubbed
environment: applied from outside, on the command line). It answers JSON-RPC
2.0, one message per line, on file descriptor 3. Before any driver code is
imported, file descriptor 1 is pointed at the log (fd 2), so nothing a driver
prints can reach the channel. Standard library only.
"""
import os
import sys

# stdout is the log from here on: a driver's print() and os.write(1, ...) land in the bounded stderr log
os.dup2(2, 1)
sys.stdout = sys.stderr

import errno as errnos  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402

PROTOCOL_VERSION = 1
CHANNEL_FD = 3
# the contract's methods and mixins: the client sends the list in initialize (one list, kept in mcs-pkg's protocol.ts)
CONTRACT_METHODS = [
    "get_function_description",
    "get_driver_system_message",
    "process_llm_response",
    "list_tools",
    "execute_tool",
    "healthcheck",
    "get_driver_context",
]
MAX_DEPTH = 64
MAX_BYTES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() and int(sys.argv[1]) > 0 else 4 * 1024 * 1024

# the interpreter's own standard library, as -I -S leaves sys.path: no script folder, no site-packages
STDLIB = list(sys.path)
driver = None
meta = None
visible = None  # the folders the sandbox shows, when one applies


class Coded(Exception):
    """An error with a stable mcs-pkg code, sent as a JSON-RPC error object."""

    def __init__(self, code, message, details=None, rpc_code=-32000):
        super().__init__(message)
        self.code = code
        self.details = details or {}
        self.rpc_code = rpc_code


def plain(value, where, depth=0):
    """A JSON value made of the driver's answer: dataclasses, pydantic-style models, tuples and enums become plain data."""
    if depth > MAX_DEPTH:
        raise Coded("E_DRIVER_CALL", f"{where} is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Coded("E_DRIVER_CALL", f"{where} holds {value}, which JSON cannot carry")
        return value
    # enum and dataclasses are looked up, not imported: a driver that uses neither does not pay for them
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(value, enum.Enum):
        return plain(value.value, where, depth + 1)
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif callable(getattr(value, "model_dump", None)):
        value = value.model_dump()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise Coded("E_DRIVER_CALL", f"{where} has a key that is not a string ({type(key).__name__})")
            out[key] = plain(item, f"{where}.{key}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item, f"{where}[{n}]", depth + 1) for n, item in enumerate(value)]
    raise Coded("E_DRIVER_CALL", f"{where} is a {type(value).__name__}, which is not JSON data")


def contract_meta(value, spec):
    """The driver's meta as plain data, the SDK's supported_llms named as the contract's target_llms."""
    data = plain(value, f"{spec}: meta")
    if not isinstance(data, dict):
        raise Coded("E_DRIVER_META", f"{spec}: meta is not an object")
    if "supported_llms" in data:
        supported = data.pop("supported_llms")
        if "target_llms" in data and data["target_llms"] != supported:
            raise Coded("E_DRIVER_META", f"{spec}: meta gives both target_llms and supported_llms with different values; give one")
        data["target_llms"] = supported
    return data


def hidden(path):
    """Whether a path lies outside everything the sandbox shows."""
    if visible is None or not isinstance(path, str):
        return False
    real = os.path.abspath(path)
    return not any(real == root or real.startswith(root.rstrip("/") + "/") for root in visible)


def driver_error(error):
    """A driver's failure as a coded error: what the confinement refused is E_HOST_DENIED, the rest E_DRIVER_CALL."""
    if isinstance(error, Coded):
        return error
    if not isinstance(error, Exception):
        return Coded("E_DRIVER_CALL", f"the driver raised {type(error).__name__}", {"name": type(error).__name__, "errno": None})
    name = type(error).__name__
    code = errnos.errorcode.get(error.errno) if isinstance(error, OSError) and error.errno else None
    resource = getattr(error, "filename", None)
    if isinstance(error, OSError) and (
        error.errno in (errnos.EACCES, errnos.EPERM, errnos.EROFS) or (error.errno == errnos.ENOENT and hidden(resource))
    ):
        why = "is read-only" if error.errno == errnos.EROFS else "is not visible" if error.errno == errnos.ENOENT else "is refused"
        return Coded(
            "E_HOST_DENIED",
            f"the driver tried something its confinement does not allow: {resource or 'a resource'} {why} ({code}); grant it (grants / --grant-*) if the index declares the permission",
            {"permission": "FileSystem", "resource": resource, "errno": code},
        )
    return Coded("E_DRIVER_CALL", f"the driver failed: {name}: {error}", {"name": name, "errno": code})


def resolve_export(target, spec):
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise Coded("E_DRIVER_ENTRY", f"{spec}: the entry point {target!r} is not module:Class")
    try:
        value = importlib.import_module(module_name)
    except BaseException as error:  # a driver's import may raise anything, SystemExit included
        denied = driver_error(error) if isinstance(error, Exception) else None
        if denied is not None and denied.code == "E_HOST_DENIED":
            raise denied
        raise Coded("E_DRIVER_IMPORT", f"{spec}: importing {module_name} failed: {type(error).__name__}: {error}", {"spec": spec})
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise Coded("E_DRIVER_SHAPE", f"{spec}: {module_name} has no {attribute}", {"spec": spec})
        value = getattr(value, part)
    return value


def initialize(params):
    global driver, meta, visible
    if not isinstance(params, dict) or params.get("protocol") != PROTOCOL_VERSION:
        got = params.get("protocol") if isinstance(params, dict) else None
        raise Coded("E_HOST_PROTOCOL", f"the client speaks host protocol {got}, this host {PROTOCOL_VERSION}", {"client": got, "host": PROTOCOL_VERSION})
    if driver is not None:
        raise Coded("E_HOST_PROTOCOL", "initialize was already called")
    spec = str(params.get("spec"))
    paths = params.get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, str) and os.path.isabs(p) for p in paths):
        raise Coded("E_HOST_PROTOCOL", "initialize: paths must be a list of absolute folders")
    # the working folder (the cwd) is shown too
    visible = params.get("visible") + [os.getcwd()] if isinstance(params.get("visible"), list) else None
    methods = params.get("methods")
    if isinstance(methods, list) and all(isinstance(m, str) for m in methods):
        CONTRACT_METHODS[:] = methods
    config = params.get("config") or {}
    if not isinstance(config, dict):
        raise Coded("E_HOST_PROTOCOL", "initialize: config must be an object")
    # exactly the verified folders after the standard library (as site-packages follows it), and nothing else of the interpreter's own
    sys.path[:] = STDLIB + list(paths)
    exported = resolve_export(str(params.get("export")), spec)
    try:
        instance = exported(**config) if callable(exported) else None
    except BaseException as error:
        raise Coded("E_DRIVER_IMPORT", f"{spec}: constructing the driver failed: {type(error).__name__}: {error}", {"spec": spec})
    if instance is None:
        raise Coded("E_DRIVER_SHAPE", f"{spec}: {params.get('export')} is not a driver class or factory", {"spec": spec})
    meta = contract_meta(getattr(instance, "meta", None), spec)
    driver = instance
    methods = [name for name in CONTRACT_METHODS if callable(getattr(instance, name, None))]
    return {"protocol": PROTOCOL_VERSION, "meta": meta, "methods": methods}


def handle(method, params):
    if method == "initialize":
        return initialize(params)
    if driver is None:
        raise Coded("E_HOST_PROTOCOL", f"{method} before initialize")
    if method == "meta":
        return meta
    if method not in CONTRACT_METHODS:
        raise Coded("E_HOST_PROTOCOL", f"the host forwards only the MCS contract's methods ({', '.join(CONTRACT_METHODS)}), not {method}", {"method": method}, rpc_code=-32601)
    function = getattr(driver, method, None)
    if not callable(function):
        raise Coded("E_DRIVER_NOT_IMPLEMENTED", f"the driver does not implement {method}; its meta.capabilities say which mixins it has", {"method": method}, rpc_code=-32601)
    args = params if isinstance(params, list) else []
    try:
        result = function(*args)
    except BaseException as error:  # SystemExit from a driver is its failure, not the host's end
        raise driver_error(error)
    return plain(result, method)


def encode(message):
    text = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8") + b"\n"
    if len(text) > MAX_BYTES:
        raise Coded("E_HOST_MESSAGE_TOO_LARGE", f"host message response {message.get('id')} is {len(text)} bytes, over the cap of {MAX_BYTES}; return less data, or raise maxMessageBytes", {"size": len(text), "cap": MAX_BYTES})
    return text


def error_object(error):
    data = {"code": error.code}
    if error.details:
        data["details"] = error.details
    return {"code": error.rpc_code, "message": str(error), "data": data}


def send(message):
    try:
        text = encode(message)
    except Coded as error:
        text = encode({"jsonrpc": "2.0", "id": message.get("id"), "error": error_object(error)})
    view = memoryview(text)
    while view:
        written = os.write(CHANNEL_FD, view)
        view = view[written:]


def on_message(line):
    try:
        request = json.loads(line)
    except ValueError:
        os._exit(70)  # the client never sends a line that is not JSON: the channel is broken
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        send({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}})
        return
    method = request["method"]
    request_id = request.get("id") if isinstance(request.get("id"), int) and not isinstance(request.get("id"), bool) else None
    if method == "$/cancel":
        return  # calls run one at a time: a cancelled call has already been answered, and the client drops that answer
    if method == "shutdown":
        if request_id is not None:
            send({"jsonrpc": "2.0", "id": request_id, "result": None})
        os._exit(0)
    try:
        result = handle(method, request.get("params"))
        reply = {"jsonrpc": "2.0", "id": request_id, "result": result}
    except Coded as error:
        reply = {"jsonrpc": "2.0", "id": request_id, "error": error_object(error)}
    except Exception as error:  # a failure of the host itself, still answered with a code
        reply = {"jsonrpc": "2.0", "id": request_id, "error": error_object(Coded("E_DRIVER_CALL", f"{type(error).__name__}: {error}"))}
    if request_id is not None:
        send(reply)


def main():
    pending = bytearray()
    while True:
        try:
            chunk = os.read(CHANNEL_FD, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            os._exit(0)  # the client went away: so does the host
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline == -1:
                break
            pending += chunk[start:newline]
            start = newline + 1
            if len(pending) + 1 > MAX_BYTES:
                os._exit(70)
            line = bytes(pending)
            pending.clear()
            on_message(line)
        pending += chunk[start:]
        if len(pending) + 1 > MAX_BYTES:
            os._exit(70)


if __name__ == "__main__":
    main()

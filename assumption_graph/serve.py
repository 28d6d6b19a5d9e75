"""``assumption-graph serve``: the live page of one model file, on a local web server.

Starlette answers the requests and Uvicorn serves them, in this process; one
worker thread runs :class:`~assumption_graph.live.LiveModel`'s updates (the
kernel is loaded once, at the start) and ``watchfiles`` starts one on every save
of the model or of the library file it names. Updates reach the page as
Server-Sent Events; a newer save or pin cancels the older run between chunks.

Security, as Jupyter's: the server listens on 127.0.0.1 unless told otherwise; a
request whose Host header names another host is refused (a page of another site
cannot read the model through DNS rebinding); every request needs the random
token of the address (or the cookie the first visit sets, which browsers never
send from another site). No endpoint writes a file, runs code from a request,
or reads any file but the model and its library; what-if values are checked
like ``--set``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import ipaddress
import json
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .errors import AssumptionGraphError
from .live import LiveModel, Update

__all__ = ["LOCAL_HOST", "LiveServer", "is_loopback", "missing_packages", "serve_app"]

LOCAL_HOST = "127.0.0.1"
_COOKIE = "assumption_graph_token"
_HEARTBEAT = 15.0  # seconds between the event stream's keep-alive comments
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_PACKAGES = ("starlette", "uvicorn", "watchfiles")  # the serve extra, imported when serving


def missing_packages() -> list[str]:
    """The packages of the ``serve`` extra that are not installed (none, normally)."""
    return [name for name in _PACKAGES if importlib.util.find_spec(name) is None]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Runner:
    """The worker thread: runs the newest request's updates and hands each to ``publish``."""

    live: LiveModel
    publish: Callable[[Update], None]
    generation: int = 0
    done: int = 0
    stopping: bool = False
    lock: threading.Condition = field(default_factory=threading.Condition)

    def request(self) -> None:
        """Run the updates again (the file changed, or a pin): an older run stops."""
        with self.lock:
            self.generation += 1
            self.lock.notify()

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify()

    def _cancelled(self, generation: int) -> bool:
        return self.stopping or self.generation != generation

    def loop(self) -> None:
        while True:
            with self.lock:
                self.lock.wait_for(lambda: self.stopping or self.generation != self.done)
                if self.stopping:
                    return
                mine, self.done = self.generation, self.generation
            self.live.new_save()  # what changes from here on is marked
            try:
                for update in self.live.updates(functools.partial(self._cancelled, mine)):
                    self.publish(update)
            except Exception as error:  # a bug: the page says so, the server keeps serving
                self.live.status = f"internal error: {type(error).__name__}: {error}"
                self.publish(Update("failed", {}, self.live.status, self.live.stale))


class LiveServer:
    """The live page's server for one model: its address, token, app and worker."""

    def __init__(
        self, live: LiveModel, host: str = LOCAL_HOST, port: int = 0, token: str | None = None
    ) -> None:
        self.live = live
        self.host = host
        self.token = token or secrets.token_urlsafe(24)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError as error:
            self.socket.close()
            message = f"cannot listen on {host}:{port}: {error.strerror}"
            raise AssumptionGraphError(message) from None
        self.socket.listen(128)  # from now on a visit waits for Uvicorn instead of failing
        self.port = self.socket.getsockname()[1]
        self.message = ""
        self._streams: set[asyncio.Queue[Update | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.runner = _Runner(live, self._publish)
        self.app = serve_app(self)

    @property
    def url(self) -> str:
        """The page's address, token included."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?token={self.token}"

    def allowed_host(self, header: str) -> bool:
        """Whether a request's Host header names this server (any port: the token guards it)."""
        name = header.rsplit(":", 1)[0] if not header.endswith("]") else header
        name = name.strip("[]").lower()
        return is_loopback(name) if is_loopback(self.host) else name in (self.host, "localhost")

    def authorised(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given, self.token)

    def _publish(self, update: Update | None) -> None:
        """From any thread: hand the update to every open event stream (``None`` ends them).

        Before Uvicorn runs there is no stream: the page reads the update's sections
        from the live model when it first connects."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._broadcast, update)

    def _broadcast(self, update: Update | None) -> None:
        for queue in self._streams:  # in the event loop's thread, which alone changes them
            queue.put_nowait(update)

    def _close_streams(self) -> None:
        """End every open event stream (from any thread)."""
        self._publish(None)

    def pin(self, node_id: str, text: str) -> str:
        """Pin an input and run again; the message for the page ('' when it worked)."""
        try:
            self.live.pin(node_id, text)
        except AssumptionGraphError as error:
            self.message = f"not pinned: {error}"
            return self.message
        self.message = ""
        self.runner.request()
        return ""

    def unpin(self, node_id: str | None) -> str:
        self.live.unpin(node_id)
        self.message = ""
        self.runner.request()
        return ""

    async def events(self) -> AsyncIterator[str]:
        """The event stream of one page: what it shows now, then every update."""
        queue: asyncio.Queue[Update | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            live = self.live
            yield _event(Update("sync", dict(live.elements), live.status, live.stale))
            while True:
                try:
                    update = await asyncio.wait_for(queue.get(), _HEARTBEAT)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if update is None:
                    return
                yield _event(update)
        finally:
            self._streams.discard(queue)

    async def watch(self, stop: asyncio.Event) -> None:
        """Run the updates again on every change of the model or its library file."""
        import watchfiles

        while not stop.is_set():
            files = self.live.files
            folders = sorted({str(f.parent) for f in files})
            async for changes in watchfiles.awatch(
                *folders, stop_event=stop, debounce=400, step=20, recursive=False
            ):
                if any(Path(path).resolve() in files for _, path in changes):
                    self.runner.request()
                if self.live.files != files:
                    break  # the model names another library: watch its folder too

    def run(self) -> None:
        """Serve until Ctrl-C: start the worker and the watcher, then Uvicorn."""
        import uvicorn

        streams = self._close_streams

        class Server(uvicorn.Server):
            """Uvicorn's server, which ends the event streams when told to stop: an open
            stream would keep it waiting for its connection to close."""

            def handle_exit(self, sig: int, frame: Any) -> None:
                streams()
                super().handle_exit(sig, frame)

        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        server = Server(config)
        worker = threading.Thread(target=self.runner.loop, name="live-updates", daemon=True)
        worker.start()
        self.runner.request()
        try:
            server.run(sockets=[self.socket])
        finally:
            self.runner.stop()
            worker.join(timeout=5)
            self.socket.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """While Uvicorn serves: the file watcher; at the end, every event stream closed."""
        self._loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        watcher = asyncio.create_task(self.watch(stop))
        try:
            yield
        finally:
            stop.set()
            self._close_streams()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(watcher, 2)


def _event(update: Update) -> str:
    data = {
        "stage": update.stage,
        "sections": dict(update.sections),
        "status": update.status,
        "stale": update.stale,
        "samples": update.samples,
    }
    return f"data: {json.dumps(data)}\n\n"


def serve_app(server: LiveServer) -> Any:
    """The Starlette application: the page, its event stream, and the pin forms."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import (
        HTMLResponse,
        JSONResponse,
        PlainTextResponse,
        RedirectResponse,
        Response,
        StreamingResponse,
    )
    from starlette.routing import Route

    class Guard:
        """Refuse a request with a foreign Host header or without the token (pure ASGI,
        so the event stream is not buffered)."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            request = Request(scope)
            refusal = None
            if not server.allowed_host(request.headers.get("host", "")):
                refusal = "refused: this server answers only to its own address (Host header)"
            elif not any(
                server.authorised(given)
                for given in (
                    request.query_params.get("token"),
                    request.headers.get("x-token"),
                    request.cookies.get(_COOKIE),
                )
            ):
                refusal = "refused: open the address with the token that 'serve' printed"
            if refusal is not None:
                await PlainTextResponse(refusal, status_code=403)(scope, receive, send)
                return
            await self.app(scope, receive, send)

    async def page(request: Request) -> Response:
        extra = {"token": server.token, "message": server.message}
        response = HTMLResponse(server.live.page(extra), headers={"Cache-Control": "no-store"})
        response.set_cookie(_COOKIE, server.token, httponly=True, samesite="strict")
        return response

    async def events(request: Request) -> Response:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(server.events(), media_type="text/event-stream", headers=headers)

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body())[:10_000].decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body).items()}

    def answer(request: Request, message: str) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"message": message}, status_code=400 if message else 200)
        return RedirectResponse("./", status_code=303)

    async def pin(request: Request) -> Response:
        given = await form(request)
        return answer(request, server.pin(given.get("id", ""), given.get("value", "")))

    async def unpin(request: Request) -> Response:
        given = await form(request)
        return answer(request, server.unpin(given.get("id")))

    routes = [
        Route("/", page),
        Route("/events", events),
        Route("/pin", pin, methods=["POST"]),
        Route("/unpin", unpin, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard)], lifespan=server.lifespan)

"""Django's ASGI handler, run the way a sync app wants it under Daphne.

Django's own ASGIHandler builds an async middleware chain and gives every request a new
thread for its sync work (`ThreadSensitiveContext()`). Painmap's views are sync, and so are
most of Django's middleware: in an async chain every `MiddlewareMixin` middleware crosses
between the event loop and that thread twice (process_request, process_response), about
eight crossings a request, and each new thread opens (and closes) a database connection.

`PainmapASGIHandler` keeps Django's request/response code and changes two things:

- **One reused worker thread per request.** A request borrows one of HTTP_WORKER_THREADS
  single-thread executors and runs, through `ThreadSensitiveContext(executor=...)`, all of its
  sync work there: the request_started signal, the whole (sync) middleware chain and the
  view, then `response.close()`, in one call for an ordinary response (see `handle`), on a
  warm thread that keeps its database connection (SQLite; PostgreSQL's pool gets
  connections back at the end anyway).
  A view that calls `async_to_sync` still works: asgiref sends thread-sensitive calls from
  inside it back to the same thread.
- **A shorter chain for the token API** (`PathChains`): `/api/` (but the HTML docs) goes
  through API_MIDDLEWARE, only what the API needs (security headers, the NUL guard, the
  database-fault retry, no-store); pages keep the full MIDDLEWARE. Both chains are built by
  Django's `load_middleware` at start-up, each with its own view/exception middleware lists.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix


@contextmanager
def _middleware_setting(middleware: list[str]) -> Iterator[None]:
    """`load_middleware` reads settings.MIDDLEWARE; build one chain from another list.
    Used only while the handler is created, before it serves anything."""
    saved = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        yield
    finally:
        settings.MIDDLEWARE = saved


class SyncChain(base.BaseHandler):
    """A sync middleware chain (and its view/exception middleware) from a list of paths."""

    def __init__(self, middleware: list[str]) -> None:
        super().__init__()
        self.middleware = list(middleware)
        with _middleware_setting(self.middleware):
            self.load_middleware(is_async=False)


class PathChains:
    """The chain a request goes through, chosen by its path: the API's or the pages'."""

    def __init__(self, pages: list[str], api: list[str], api_prefix: str, html: tuple[str, ...]):
        self.pages = SyncChain(pages)
        self.api = SyncChain(api)
        self.api_prefix = api_prefix
        self.html = html

    def for_path(self, path: str) -> SyncChain:
        if path.startswith(self.api_prefix) and not path.startswith(self.html):
            return self.api
        return self.pages


class WorkerThreads:
    """Single-thread executors lent to one request at a time, most recently used first (its
    thread's connection is the one most likely still open)."""

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._idle: asyncio.LifoQueue[ThreadPoolExecutor] | None = None

    def _queue(self) -> asyncio.LifoQueue[ThreadPoolExecutor]:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            for number in range(self.count):
                self._idle.put_nowait(
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{number}")
                )
        return self._idle

    async def acquire(self) -> ThreadPoolExecutor:
        return await self._queue().get()

    def release(self, executor: ThreadPoolExecutor) -> None:
        self._queue().put_nowait(executor)

    def close(self) -> None:
        """Close each thread's database connections and stop the threads (tests; a server's
        exit does the same)."""
        if self._idle is None:
            return
        while not self._idle.empty():
            executor = self._idle.get_nowait()
            executor.submit(connections.close_all).result()
            executor.shutdown()
        self._idle = None


class PainmapASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)  # not ASGIHandler's: no async chain to build
        self.chains = PathChains(
            settings.MIDDLEWARE,
            settings.API_MIDDLEWARE,
            settings.API_PREFIX,
            tuple(settings.API_HTML_PATHS),
        )
        self.workers = WorkerThreads(settings.HTTP_WORKER_THREADS)
        # Django's handler checks this to know the handler is ready.
        self._middleware_chain = self.chains.pages._middleware_chain

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self.workers.acquire()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.workers.release(executor)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's `handle()`, with one crossing to the worker thread per request.

        Django crosses three times (request_started, the chain and view, response.close());
        here one call does all three for an ordinary response, whose body is already in
        memory when request_finished runs. A streaming response (exports, static files) is
        sent as Django sends it, watching for the client to leave, and closed after.
        A client that left before an ordinary answer is sent costs nothing more: Daphne
        drops messages for a closed connection.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            # thread_sensitive: this request's worker thread (see __call__).
            response = await sync_to_async(self._respond)(scope, body_file)
            if response.streaming:
                await self._send_streaming(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.chains.for_path(request.path_info).get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # request_finished (connections, caches) before the body goes out
        return response

    async def _send_streaming(self, response: HttpResponseBase, receive: Any, send: Any) -> None:
        sending = asyncio.create_task(self.send_response(response, send))
        leaving = asyncio.create_task(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait([sending, leaving], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (leaving, sending):
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                    await task
            await sync_to_async(response.close)()

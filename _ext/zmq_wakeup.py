"""Never sit out a missed ZeroMQ wake-up while executing notebooks.

The stall (a build waiting the full cell timeout although the kernel had replied) is a lost
wake-up in ``zmq.asyncio``: nbclient waits for ``execute_reply`` with
``await shell_channel.get_msg(timeout)``, i.e. an asyncio ``Poller.poll`` on the shell
socket's ``zmq.FD``.  That descriptor is edge-triggered: any call that reads
``zmq.EVENTS`` or sends/receives on the socket drains its signal, and if that happens between
the reply's arrival and the poll being armed, the event loop is never woken again.  In the
stalled state the shell socket showed ``EVENTS == POLLIN|POLLOUT`` (the reply waiting), a
pending poll future and the descriptor registered in epoll; only the poll's own timeout
ended it (its final ``zmq_poll(0)`` then found the reply, so the cell "succeeded" late).
Widget cells make it likely because they send bursts of ``comm_open``/``comm_msg`` on iopub
just before the reply.  Same family as jupyter/nbclient#312 and zeromq/pyzmq#2173.

The fix: wait in short slices.  Each slice ends with a level-triggered check
(``zmq_poll(0)``), so a missed edge costs at most :data:`SLICE_S` seconds instead of the
whole timeout, and a real timeout is still raised at the caller's deadline.
:func:`install` patches ``jupyter_client``'s async channel class in this process; the
Sphinx extension ``perpsbook_site`` calls it, so the book build (myst-nb -> nbclient) uses it.
"""

from __future__ import annotations

import time
from queue import Empty

__all__ = ["SLICE_S", "install"]

SLICE_S = 0.25  # seconds; the worst-case delay a missed wake-up can now cause


def install(slice_s: float = SLICE_S) -> None:
    """Make ``AsyncZMQSocketChannel.get_msg`` poll in slices of ``slice_s`` seconds.

    Idempotent.  ``timeout=None`` still waits forever, ``timeout=t`` still raises
    :class:`queue.Empty` after ``t`` seconds; only the wake-up is made robust.
    """
    if not slice_s > 0:
        raise ValueError(f"slice_s must be > 0 seconds, got {slice_s!r}")
    from jupyter_client.channels import AsyncZMQSocketChannel

    original = getattr(AsyncZMQSocketChannel.get_msg, "__wrapped_original__", None)
    if original is None:
        original = AsyncZMQSocketChannel.get_msg

    async def get_msg(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                step = slice_s
            else:
                step = max(0.0, min(slice_s, deadline - time.monotonic()))
            try:
                return await original(self, timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg.__wrapped_original__ = original  # type: ignore[attr-defined]
    get_msg.__doc__ = original.__doc__
    AsyncZMQSocketChannel.get_msg = get_msg  # type: ignore[method-assign]

"""Django's PostgreSQL backend, whose connection health check asks the server only when
the connection's socket says something happened.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request
that reuses a connection, so that a connection the server closed (a restart, a terminated
backend, an idle timeout) is replaced instead of failing the request. That is a round trip
per request: ~1.3 ms of server and database CPU per rated report in the browser flow, whose
eight requests each run two or three statements (bench/RESULTS.md).

A server that closes a connection says so on its socket: a FATAL message (a restart or
`pg_terminate_backend`) or the end of the stream (its process died). A quiet socket on an
idle connection has nothing of the kind to say, so the check is skipped; anything else
(data waiting, a hang-up, a transaction left open, a connection psycopg knows is broken)
gets Django's own `SELECT 1`. What neither check can see early, a peer that vanished
without a word (a cut network), fails the request as it would after `SELECT 1` hung.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import Connection, pq

_READABLE = select.POLLIN | select.POLLPRI


def connection_quiet(connection: Connection) -> bool:
    """Whether `connection` is idle, not known broken, and nothing waits on its socket."""
    if connection.closed or connection.broken:
        return False
    if connection.info.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(connection.fileno(), _READABLE)
    # poll() reports a hang-up or an error whatever the mask: any event is "not quiet".
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is not None and connection_quiet(self.connection):
            return True
        return super().is_usable()

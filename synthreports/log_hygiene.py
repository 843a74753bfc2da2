"""Log hygiene: exception messages that may carry patient data never reach a log record.

A PostgreSQL error's DETAIL and CONTEXT quote the values of the failing row ("JSON data,
line 1: {"nom": …"), a ValueError quotes its input, a KeyError its key. Every log record is
scrubbed when it is created, through the log record factory, so no handler, logger level
or third-party configuration (Celery replaces the root logger's handlers) can bypass it:

- the traceback is kept (file, line, function, source line: code, not data), but each
  exception's message is replaced by its type, its SQLSTATE for a database error, and the
  first line of a database message with every quoted value removed; exception types whose
  messages are about code (AttributeError, NameError, ImportError…) keep them;
- a message that repeats an exception's text (Celery's "Task … raised: …", Django's
  "Internal Server Error" carries none) gets the same replacement, as do exceptions passed
  as arguments.
"""

import logging
import re
import traceback
from types import TracebackType
from typing import Any

# Messages about the program, not about the data it was handling.
_MESSAGE_IS_SAFE = (
    AttributeError,
    NameError,
    ImportError,
    NotImplementedError,
    RecursionError,
    MemoryError,
    TimeoutError,
    ConnectionError,
)
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'|\([^)]*\)=\([^)]*\)')

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def exception_summary(exc: BaseException) -> str:
    """What may be logged of an exception's message."""
    if isinstance(exc, _MESSAGE_IS_SAFE):
        return f"{type(exc).__name__}: {exc}"
    sqlstate = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
    cause = exc.__cause__
    if sqlstate is None and cause is not None:
        sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        first_line = (str(exc).splitlines() or [""])[0]
        # The primary message names the problem; quoted parts and "(key)=(value)" are data.
        return (
            f"{type(exc).__name__} [SQLSTATE {sqlstate}]: "
            f"{_QUOTED.sub('…', first_line)[:200]} (detail and context withheld from logs)"
        )
    return f"{type(exc).__name__}: (message withheld from logs: it may contain data)"


def scrubbed_traceback(exc_info: ExcInfo) -> str:
    """The traceback as `logging.Formatter.formatException` would print it, each message
    replaced by `exception_summary`."""
    lines: list[str] = []
    seen: set[int] = set()

    def add(exc: BaseException, tb: TracebackType | None) -> None:
        seen.add(id(exc))
        if exc.__cause__ is not None and id(exc.__cause__) not in seen:
            add(exc.__cause__, exc.__cause__.__traceback__)
            lines.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif (
            exc.__context__ is not None
            and not exc.__suppress_context__
            and id(exc.__context__) not in seen
        ):
            add(exc.__context__, exc.__context__.__traceback__)
            lines.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if tb is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.StackSummary.extract(traceback.walk_tb(tb)).format())
        lines.append(exception_summary(exc) + "\n")

    add(exc_info[1], exc_info[2])
    return "".join(lines).rstrip("\n")


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    exceptions: list[BaseException] = []
    if record.exc_info and record.exc_info[1] is not None:
        exceptions = _chain(record.exc_info[1])
        record.exc_text = scrubbed_traceback(record.exc_info)  # type: ignore[arg-type]
        # Handlers format exc_text when it is set; exc_info itself (with the raw messages)
        # must not reach one that formats it again.
        record.exc_info = None
    args: Any = record.args
    if isinstance(args, tuple) and any(isinstance(a, BaseException) for a in args):
        exceptions.extend(a for a in args if isinstance(a, BaseException))
        record.args = tuple(
            exception_summary(a) if isinstance(a, BaseException) else a for a in args
        )
    elif isinstance(args, dict) and any(isinstance(a, BaseException) for a in args.values()):
        record.args = {
            k: exception_summary(v) if isinstance(v, BaseException) else v for k, v in args.items()
        }
    raw_texts = [
        (str(exc), exception_summary(exc))
        for exc in exceptions
        if not isinstance(exc, _MESSAGE_IS_SAFE) and len(str(exc)) > 3
    ]
    if raw_texts:
        try:
            message = record.getMessage()
        except Exception:  # a malformed message is the logging module's business
            return record
        changed = message
        for raw, summary in raw_texts:
            changed = changed.replace(raw, summary).replace(repr(raw)[1:-1], summary)
        if changed != message:
            record.msg, record.args = changed, None
    return record


_installed = False


def install() -> None:
    """Scrub every log record of this process at creation. Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


class ScrubSensitiveData(logging.Filter):
    """The same scrubbing as a handler filter, for records built without the factory
    (unpickled from another process, say)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True

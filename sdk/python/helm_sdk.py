"""Client helpers for helm: the X-Helm-* headers of a proxy response, the
output hash that ties a response body to its outcome receipt, and the receipt
tail of the boundary admin API (docs/api.md). Standard library only.

    from helm_sdk import read_helm_headers, check_output_hash, tail_receipts

    h = read_helm_headers(response.headers)       # HelmHeaders, or HelmHeaderError
    check_output_hash(body_bytes, response.headers)  # True when the body is as helm sent it
    with tail_receipts("http://127.0.0.1:7714", token) as tail:
        for r in tail:                             # TailedReceipt(seq, receipt, stored)
            ...

See sdk/python/README.md.
"""

from __future__ import annotations

import collections
import hashlib
import http.client
import json
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Tuple, Union

__all__ = [
    "STATUSES", "HelmHeaders", "HelmHeaderError", "read_helm_headers",
    "output_hash_of", "check_output_hash", "stream_output_hash", "check_stream_output_hash",
    "SseEvent", "SseError", "SseParser",
    "TailedReceipt", "TailError", "ReceiptTail", "tail_receipts",
]

STATUSES = ("ALLOW", "DENY", "ESCALATE")

# Ids as helm mints them (`dec_`/`rcpt_`/`cor_`/`apr_` + ULID) and as it
# adopts a client's X-Request-ID: 1-128 of [A-Za-z0-9._:-]. A comma or a space
# means two values were merged into one (a header sent twice).
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,19}")

Body = Union[bytes, bytearray, memoryview, str]

# --------------------------------------------------------------- headers --

_NAMES = {name.lower(): name for name in (
    "X-Helm-Decision-ID", "X-Helm-Receipt-ID", "X-Helm-Status", "X-Helm-Reason-Code",
    "X-Helm-Correlation-ID", "X-Helm-Output-Hash", "X-Helm-Approval-ID", "X-Helm-Lane",
    "X-Helm-Model", "X-Helm-Fallbacks")}
_REQUIRED = ("x-helm-decision-id", "x-helm-receipt-id", "x-helm-status", "x-helm-reason-code",
             "x-helm-correlation-id")


class HelmHeaderError(ValueError):
    """The X-Helm-* headers are missing, repeated with different values, or
    malformed. `correlation_id` is the response's X-Helm-Correlation-ID when
    it had a valid one (helm sends it on every response, a 401 included)."""

    def __init__(self, message: str, correlation_id: Optional[str] = None):
        super().__init__(message)
        self.correlation_id = correlation_id


@dataclass(frozen=True)
class HelmHeaders:
    """helm's headers on a decided response (docs/api.md, "Proxy")."""

    decision_id: str             # X-Helm-Decision-ID
    receipt_id: str              # X-Helm-Receipt-ID: the decision receipt
    status: str                  # X-Helm-Status: 'ALLOW' | 'DENY' | 'ESCALATE'
    reason_code: str             # X-Helm-Reason-Code; '' when the deciding rule gives none
    correlation_id: str          # X-Helm-Correlation-ID
    output_hash: Optional[str] = None   # X-Helm-Output-Hash: non-streaming responses only
    approval_id: Optional[str] = None   # X-Helm-Approval-ID: on ESCALATE
    lane: Optional[str] = None          # X-Helm-Lane: on success
    model: Optional[str] = None         # X-Helm-Model: on success, the model that served
    fallbacks: Optional[int] = None     # X-Helm-Fallbacks: on success


def _header_pairs(headers: Any) -> Iterable[Tuple[Any, Any]]:
    # Mappings and message objects have items(); http.client's getheaders()
    # and ASGI-style header lists are sequences of pairs.
    items = getattr(headers, "items", None)
    return items() if callable(items) else headers


def _helm_values(headers: Any) -> dict:
    """Lower-case name -> stripped value of every X-Helm-* header."""
    found = {}
    for name, value in _header_pairs(headers):
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("latin-1")
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("latin-1")
        lower = str(name).lower()
        if not lower.startswith("x-helm-"):
            continue
        value = str(value).strip(" \t")
        if found.get(lower, value) != value:
            raise HelmHeaderError("%s is present twice with different values"
                                  % _NAMES.get(lower, name))
        found[lower] = value
    return found


def _output_hash(values: dict, correlation_id: Optional[str]) -> Optional[str]:
    value = values.get("x-helm-output-hash")
    if not value:
        return None
    if not _HASH.fullmatch(value):
        raise HelmHeaderError("X-Helm-Output-Hash %r is not sha256:<64 lowercase hex>" % value,
                              correlation_id)
    return value


def read_helm_headers(headers: Any) -> HelmHeaders:
    """Reads helm's X-Helm-* headers from `headers`: any mapping or message
    object with items() (http.client.HTTPMessage, email.message.Message, a
    dict, the openai SDK's `raw.headers`) or a sequence of (name, value)
    pairs. Names match in any case.

    Raises HelmHeaderError when a required header is missing (a response
    refused before the decision, such as a 401 for a bad key, carries only
    X-Helm-Correlation-ID), when a header is present twice with different
    values, or when a value is malformed (a status other than ALLOW, DENY,
    ESCALATE; an id that is not one; fallbacks not a non-negative integer).
    """
    values = _helm_values(headers)
    correlation_id = values.get("x-helm-correlation-id")
    if correlation_id is not None and not _ID.fullmatch(correlation_id):
        raise HelmHeaderError("X-Helm-Correlation-ID %r is not an id" % correlation_id)
    missing = [_NAMES[n] for n in _REQUIRED if n not in values]
    if missing:
        raise HelmHeaderError(
            "missing %s: not a decided helm response (a request refused before its "
            "decision, such as a 401, has no decision headers)" % ", ".join(missing),
            correlation_id)

    def need_id(name: str) -> str:
        value = values[name]
        if not _ID.fullmatch(value):
            raise HelmHeaderError("%s %r is not an id" % (_NAMES[name], value), correlation_id)
        return value

    status = values["x-helm-status"]
    if status not in STATUSES:
        raise HelmHeaderError("X-Helm-Status %r is not one of %s" % (status, ", ".join(STATUSES)),
                              correlation_id)
    approval_id = values.get("x-helm-approval-id") or None
    if approval_id is not None and not _ID.fullmatch(approval_id):
        raise HelmHeaderError("X-Helm-Approval-ID %r is not an id" % approval_id, correlation_id)
    fallbacks = values.get("x-helm-fallbacks")
    if fallbacks is not None:
        if not _DIGITS.fullmatch(fallbacks):
            raise HelmHeaderError("X-Helm-Fallbacks %r is not a non-negative integer" % fallbacks,
                                  correlation_id)
        fallbacks = int(fallbacks)
    return HelmHeaders(
        decision_id=need_id("x-helm-decision-id"),
        receipt_id=need_id("x-helm-receipt-id"),
        status=status,
        reason_code=values["x-helm-reason-code"],
        correlation_id=need_id("x-helm-correlation-id"),
        output_hash=_output_hash(values, correlation_id),
        approval_id=approval_id,
        lane=values.get("x-helm-lane") or None,
        model=values.get("x-helm-model") or None,
        fallbacks=fallbacks,
    )


# ----------------------------------------------------------- output hash --

def _body_bytes(body: Body) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError("body must be bytes or str, not %s" % type(body).__name__)


def output_hash_of(body: Body) -> str:
    """`sha256:<hex>` of exactly these bytes (a str is encoded as UTF-8): what
    helm puts in X-Helm-Output-Hash and in the outcome receipt's output_hash.
    Hash the body as received, before any decoding or JSON parsing."""
    return "sha256:" + hashlib.sha256(_body_bytes(body)).hexdigest()


def check_output_hash(body: Body, headers: Any) -> bool:
    """True when `body` hashes to the response's X-Helm-Output-Hash. `headers`
    is a HelmHeaders or anything read_helm_headers accepts. Raises
    HelmHeaderError when there is no X-Helm-Output-Hash to check against (a
    streaming response carries its hash in the stream: check_stream_output_hash)."""
    if isinstance(headers, HelmHeaders):
        expected = headers.output_hash
    else:
        values = _helm_values(headers)
        expected = _output_hash(values, values.get("x-helm-correlation-id"))
    if expected is None:
        raise HelmHeaderError("no X-Helm-Output-Hash (a streaming response carries its hash in "
                              "the stream: use check_stream_output_hash)")
    return output_hash_of(body) == expected


_STREAM_HASH_LINE = re.compile(rb": ?helm-output-hash (sha256:[0-9a-f]{64})")


def _stream_hash(sse: Body) -> Tuple[bytes, Optional[int], Optional[str]]:
    """(the stream's bytes, offset of the hash comment line, its hash); the
    comment must be the last line that is not empty, as helm writes it."""
    data = _body_bytes(sse)
    end = len(data.rstrip(b"\r\n"))
    start = max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1
    m = _STREAM_HASH_LINE.fullmatch(data, start, end)
    if not m:
        return data, None, None
    return data, start, m.group(1).decode("ascii")


def stream_output_hash(sse_text: Body) -> Optional[str]:
    """The hash in the `: helm-output-hash sha256:<hex>` comment that ends a
    streamed (SSE) response, or None when the stream does not end with one
    (cut short, a client disconnect, or not an SSE stream). It equals the
    outcome receipt's output_hash."""
    return _stream_hash(sse_text)[2]


def check_stream_output_hash(sse: Body) -> bool:
    """True when the bytes of a streamed response before its closing
    `: helm-output-hash` comment hash to the value in that comment: the body
    arrived as helm sent it. Pass the raw bytes as received (a str is encoded
    as UTF-8). Raises ValueError when the stream does not end with the comment."""
    data, start, expected = _stream_hash(sse)
    if expected is None:
        raise ValueError("the stream does not end with a ': helm-output-hash' comment "
                         "(cut short, or not an SSE stream)")
    return output_hash_of(data[:start]) == expected


# ------------------------------------------------------------------- SSE --

class SseError(ValueError):
    """A text/event-stream that cannot be parsed: a line that is not UTF-8,
    or a line or event larger than the parser's limit."""


@dataclass(frozen=True)
class SseEvent:
    event: str            # the event type; 'message' when the event names none
    data: str             # its data lines joined with '\n'
    id: Optional[str]     # the last event id seen at dispatch (ids persist), or None


_EOL = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


class SseParser:
    """Incremental parser of a text/event-stream, as the WHATWG HTML standard
    ("Parsing an event stream") has it: lines end with CRLF, LF or CR (a CRLF
    may be split between two chunks); a leading BOM is skipped; `:` lines are
    comments; one space after the field's colon is removed; data lines are
    joined with '\\n'; an event without data lines is not dispatched; an event
    not ended by an empty line when the stream ends is dropped. Lines must be
    UTF-8 (SseError otherwise: nothing is replaced silently)."""

    def __init__(self, max_event_bytes: int = 16 << 20):
        self.max_event_bytes = max_event_bytes
        self._buf = b""          # an unfinished line: never holds CR or LF
        self._skip_lf = False    # the last chunk ended in CR: a leading LF ends no line
        self._bom_checked = False
        self._type = ""
        self._data: List[str] = []
        self._size = 0
        self._id: Optional[str] = None

    def feed(self, chunk: Body) -> List[SseEvent]:
        """Parses the next bytes of the stream; returns the events they complete."""
        chunk = _body_bytes(chunk)
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        scan_from = len(self._buf)
        buf = self._buf + chunk
        if not self._bom_checked:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                self._buf = buf
                return []
            self._bom_checked = True
            if buf.startswith(_BOM):
                buf, scan_from = buf[len(_BOM):], 0
        events = []
        pos = 0
        for m in _EOL.finditer(buf, scan_from):
            event = self._line(buf[pos:m.start()])
            if event is not None:
                events.append(event)
            pos = m.end()
            if m.group() == b"\r" and pos == len(buf):
                self._skip_lf = True
        self._buf = buf[pos:]
        if len(self._buf) + self._size > self.max_event_bytes:
            raise SseError("an event larger than %d bytes" % self.max_event_bytes)
        return events

    def _line(self, line: bytes) -> Optional[SseEvent]:
        if not line:
            return self._dispatch()
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SseError("a line that is not UTF-8: %s" % e) from None
        if text.startswith(":"):
            return None  # a comment
        name, _, value = text.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._size += len(line)
            if self._size > self.max_event_bytes:
                raise SseError("an event larger than %d bytes" % self.max_event_bytes)
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        # `retry` (reconnection is the caller's) and unknown fields are ignored.
        return None

    def _dispatch(self) -> Optional[SseEvent]:
        data, kind = self._data, self._type
        self._data, self._type, self._size = [], "", 0
        if not data:
            return None
        return SseEvent(event=kind or "message", data="\n".join(data), id=self._id)


# ------------------------------------------------------------------ tail --

@dataclass(frozen=True)
class TailedReceipt:
    seq: int        # the event id: the receipt's seq in the ledger
    receipt: dict   # the parsed receipt
    stored: str     # the receipt exactly as stored (its canonical bytes, as UTF-8
                    # text): stored.encode() is the line a verifier reads


class TailError(Exception):
    """The tail failed. `code` is helm's error code (UNAUTHENTICATED,
    LEDGER_UNAVAILABLE, ...) or one of the client's: HTTP_<status> (an error
    answer without a helm error body), UNEXPECTED_RESPONSE (a 200 that is not
    an event stream), CONNECTION_FAILED, CONNECTION_LOST, TIMEOUT,
    INVALID_EVENT (a receipt event that is not one). `status` is the HTTP
    status of an error answer, else None."""

    def __init__(self, code: str, message: str = "", status: Optional[int] = None):
        self.code = code
        self.message = message
        self.status = status
        text = "%s: %s" % (code, message) if message else code
        super().__init__("HTTP %d %s" % (status, text) if status is not None else text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the admin token to wherever it points.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
_READ_SIZE = 64 * 1024


def _helm_error(raw: bytes) -> Tuple[Optional[str], str]:
    """(code, message) of a `{"error": {"code", "message"}}` body, else (None, '')."""
    try:
        err = json.loads(raw)["error"]
        code, message = err.get("code"), err.get("message", "")
        if isinstance(code, str) and code:
            return code, message if isinstance(message, str) else ""
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return None, ""


def _socket_of(res: Any) -> Optional[socket.socket]:
    # http.client reads through a buffered SocketIO; shutting the socket down
    # is the one way to wake a read blocked in another thread (closing the
    # buffered file would wait for that read to finish).
    sock = getattr(getattr(getattr(res, "fp", None), "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class ReceiptTail:
    """An open tail: iterate it for TailedReceipt, in seq order. Made by
    tail_receipts, which has already subscribed when it returns.

    Iteration ends when the server ends the stream (helm stopping) and raises
    TailError when it fails (an `event: error`, a lost connection, a timeout).
    Neither reconnects: to go on, call tail_receipts again with
    last_event_id=tail.last_event_id, which resumes right after the last
    receipt this tail yielded. close() (or leaving a `with` block) ends the
    tail; it may be called from another thread, and a blocked iteration then
    ends at once."""

    def __init__(self, response: Any, last_event_id: Optional[int], timeout: float):
        self._res = response
        self._sock = _socket_of(response)
        self._timeout = timeout
        self._parser = SseParser()
        self._pending: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._reading = False
        self.last_event_id = last_event_id  # seq of the last receipt yielded (or the start)

    def __iter__(self) -> "ReceiptTail":
        return self

    def __enter__(self) -> "ReceiptTail":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Ends the tail. From another thread, a read in progress is woken
        (the socket is shut down) and that thread closes the response."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if not reading:
            self._res.close()

    def __next__(self) -> TailedReceipt:
        while not self._closed:
            if self._pending:
                receipt = self._receipt(self._pending.popleft())
                if receipt is not None:
                    self.last_event_id = receipt.seq
                    return receipt
                continue
            chunk = self._read()
            if not chunk:  # the server ended the stream, or close() was called
                self.close()
                break
            try:
                self._pending.extend(self._parser.feed(chunk))
            except SseError as e:
                raise self._error("INVALID_EVENT", str(e)) from e
        raise StopIteration

    def _error(self, code: str, message: str) -> TailError:
        """Closes the tail and returns the error to raise."""
        self.close()
        return TailError(code, message)

    def _read(self) -> bytes:
        with self._lock:
            if self._closed:
                return b""
            self._reading = True
        try:
            return self._res.read1(_READ_SIZE)
        except Exception as e:
            if self._closed:  # close() woke this read: not a failure
                return b""
            if isinstance(e, socket.timeout):
                raise self._error("TIMEOUT", "nothing received for %g s (helm sends a "
                                  "keep-alive every 15 s)" % self._timeout) from e
            if isinstance(e, (OSError, ValueError, http.client.HTTPException)):
                raise self._error("CONNECTION_LOST", "%s: %s" % (type(e).__name__, e)) from e
            raise
        finally:
            with self._lock:
                self._reading = False
                closed_meanwhile = self._closed
            if closed_meanwhile:
                self._res.close()

    def _receipt(self, event: SseEvent) -> Optional[TailedReceipt]:
        if event.event == "error":
            code, message = _helm_error(event.data.encode("utf-8"))
            raise self._error(code or "TAIL_ERROR", message or event.data)
        if event.event != "receipt":
            return None  # an event type this client does not know
        if event.id is None or not _DIGITS.fullmatch(event.id):
            raise self._error("INVALID_EVENT",
                              "a receipt event without a numeric id: %r" % (event.id,))
        seq = int(event.id)
        if self.last_event_id is not None and seq <= self.last_event_id:
            raise self._error("INVALID_EVENT", "seq %d after seq %d" % (seq, self.last_event_id))
        try:
            receipt = json.loads(event.data)
        except ValueError as e:
            raise self._error("INVALID_EVENT", "receipt %d is not JSON: %s" % (seq, e)) from e
        if not isinstance(receipt, dict):
            raise self._error("INVALID_EVENT", "receipt %d is not a JSON object" % seq)
        own_seq = receipt.get("seq")
        if type(own_seq) is not int or own_seq != seq:
            raise self._error("INVALID_EVENT", "event id %d, receipt seq %r" % (seq, own_seq))
        return TailedReceipt(seq=seq, receipt=receipt, stored=event.data)


def tail_receipts(admin_url: str, token: str, agent: Optional[str] = None,
                  last_event_id: Optional[int] = None, timeout: float = 60.0) -> ReceiptTail:
    """Subscribes to GET <admin_url>/api/v1/receipts/tail and returns a
    ReceiptTail to iterate (and to close, or use in a `with` block).

    admin_url      the boundary admin API, e.g. http://127.0.0.1:7714
    token          the admin token (HELM_ADMIN_TOKEN, or <data-dir>/keys/admin.token)
    agent          only that agent's receipts
    last_event_id  start after this seq (sent as Last-Event-ID); 0 replays the
                   whole ledger. None: only receipts appended from now on.
    timeout        seconds to connect, and to wait for the next bytes; helm
                   sends a keep-alive comment every 15 s, so keep it above that.

    The subscription is live when this returns: a receipt appended afterwards
    is delivered. Raises TailError on an error answer (401 UNAUTHENTICATED for
    a wrong token; redirects are not followed) or when the server cannot be
    reached, and ValueError on a bad argument."""
    if last_event_id is not None:
        if isinstance(last_event_id, bool) or not (
                isinstance(last_event_id, int) or
                (isinstance(last_event_id, str) and _DIGITS.fullmatch(last_event_id))):
            raise ValueError("last_event_id must be a seq (a non-negative integer), not %r"
                             % (last_event_id,))
        last_event_id = int(last_event_id)
        if last_event_id < 0:
            raise ValueError("last_event_id must not be negative")
    if agent is not None and not agent:
        raise ValueError("agent must not be empty (None tails every agent)")
    url = admin_url.rstrip("/") + "/api/v1/receipts/tail"
    if agent is not None:
        url += "?agent=" + urllib.parse.quote(agent, safe="")
    headers = {"Authorization": "Bearer " + token.strip(), "Accept": "text/event-stream",
               "Cache-Control": "no-cache"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        res = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        try:
            raw = e.read(_READ_SIZE)
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            e.close()
        code, message = _helm_error(raw)
        raise TailError(code or "HTTP_%d" % e.code, message or str(e.reason), e.code) from None
    except urllib.error.URLError as e:
        raise TailError("CONNECTION_FAILED", "%s: %s" % (url, e.reason)) from None
    except socket.timeout:
        raise TailError("TIMEOUT", "%s: no answer within %g s" % (url, timeout)) from None
    except (OSError, http.client.HTTPException) as e:
        raise TailError("CONNECTION_FAILED", "%s: %s" % (url, e)) from None
    content_type = res.headers.get("Content-Type", "")
    if res.status != 200 or not content_type.startswith("text/event-stream"):
        res.close()
        raise TailError("UNEXPECTED_RESPONSE", "HTTP %d, Content-Type %r: not an event stream"
                        % (res.status, content_type))
    return ReceiptTail(res, last_event_id, timeout)

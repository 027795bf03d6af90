"""LarsClient: pick a host for (modid, cmdid) from the local agent and report how the call went (docs/client.md).

One UDP socket per client, blocking, not shared between threads. A request
goes to base_port + (modid + cmdid) % 3, the agent's own rule. get_host
replies are matched by seq and route replies by route, so a late answer to
an earlier, timed-out request is skipped; a datagram from the agent that is
not a frame this client reads raises LarsProtocolError.
"""
from __future__ import annotations

import math
import socket
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Generic, List, Optional, Tuple, TypeVar

from . import wire
from .errors import LarsError, LarsProtocolError, LarsTimeout
from .wire import Host

DEFAULT_BASE_PORT = 8888
AGENT_PORT_COUNT = 3
#: ReportRequest's duration_us is a uint32.
MAX_DURATION_US = 0xFFFFFFFF

T = TypeVar("T")

_REPLIES = (wire.GET_HOST_RESPONSE, wire.API_GET_ROUTE_RESPONSE)


class RetCode(IntEnum):
    """Return codes of GetHostResponse.retcode and ReportRequest.retcode."""

    SUCC = 0
    OVERLOAD = 1
    SYSTEM_ERROR = 2
    NOEXIST = 3


@dataclass(frozen=True)
class GetHostResult:
    """retcode SUCC comes with a host; any other code comes without one."""

    retcode: RetCode
    host: Optional[Host] = None


@dataclass(frozen=True)
class CallResult(Generic[T]):
    """What call() did: the host used (when one was given), and fn's value or the exception it raised."""

    retcode: RetCode
    host: Optional[Host] = None
    value: Optional[T] = None
    error: Optional[BaseException] = None


def agent_port(base_port: int, modid: int, cmdid: int) -> int:
    """The agent port that serves a route; Python's % is already non-negative."""
    return base_port + (modid + cmdid) % AGENT_PORT_COUNT


def reported_duration_us(duration_ms: float) -> int:
    """A duration in ms as ReportRequest's duration_us: rounded to whole µs (halves up), clamped to the uint32 range."""
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, (int, float)) or not math.isfinite(duration_ms) or duration_ms < 0:
        raise ValueError(f"a call's duration must be a finite number of ms >= 0, got {duration_ms!r}")
    return min(math.floor(duration_ms * 1000 + 0.5), MAX_DURATION_US)


def _host_result(reply: wire.GetHostReply) -> GetHostResult:
    """A SUCC without a host, or a code we do not know, is the agent's error."""
    if reply.retcode == RetCode.SUCC and reply.host is not None:
        return GetHostResult(RetCode.SUCC, reply.host)
    if reply.retcode in (RetCode.OVERLOAD, RetCode.NOEXIST, RetCode.SYSTEM_ERROR):
        return GetHostResult(RetCode(reply.retcode))
    return GetHostResult(RetCode.SYSTEM_ERROR)


class LarsClient:
    """Talks to one agent. timeout is in seconds, per request."""

    def __init__(self, host: str = "127.0.0.1", base_port: int = DEFAULT_BASE_PORT, timeout: float = 1.0) -> None:
        family, _, _, _, address = socket.getaddrinfo(host, base_port, type=socket.SOCK_DGRAM)[0]
        self._agent_ip: str = address[0]
        self._base_port = base_port
        self._timeout = timeout
        self._seq = 0
        self._socket: Optional[socket.socket] = socket.socket(family, socket.SOCK_DGRAM)

    def __enter__(self) -> LarsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def get_host(self, modid: int, cmdid: int, key: str = "") -> GetHostResult:
        """One host for the route, chosen by the agent's balancer; key is the affinity key of consistent_hash."""
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        seq = self._seq
        port = self._send(modid, cmdid, wire.encode_get_host_request(seq, modid, cmdid, key))
        reply = self._receive("get_host", port, wire.GET_HOST_RESPONSE, wire.decode_get_host_response, lambda r: r.seq == seq)
        return _host_result(reply)

    def report(self, modid: int, cmdid: int, host: Host, retcode: int, duration_ms: Optional[float] = None) -> None:
        """Tells the agent how a call to host went, and how long it took (ms) when duration_ms is given. No answer."""
        duration_us = None if duration_ms is None else reported_duration_us(duration_ms)
        self._send(modid, cmdid, wire.encode_report_request(modid, cmdid, host, int(retcode), duration_us))

    def get_route(self, modid: int, cmdid: int) -> List[Host]:
        """Every host of the route, as the agent holds it (empty when the route is unknown)."""
        port = self._send(modid, cmdid, wire.encode_route_request(modid, cmdid))
        reply = self._receive(
            "get_route", port, wire.API_GET_ROUTE_RESPONSE, wire.decode_route_response, lambda r: (r.modid, r.cmdid) == (modid, cmdid)
        )
        return reply.hosts

    def reg_init(self, modid: int, cmdid: int, tries: int = 3) -> RetCode:
        """Asks for a host until the agent has the route (or tries pass), so the first real get_host does not meet NOEXIST."""
        retcode = RetCode.NOEXIST
        for i in range(tries):
            if i > 0:
                # An agent that answers NOEXIST at once needs a moment to hear from dns.
                time.sleep(0.05 * 2**i)
            retcode = self.get_host(modid, cmdid).retcode
            if retcode != RetCode.NOEXIST:
                break
        return retcode

    def call(self, modid: int, cmdid: int, fn: Callable[[Host], T], key: str = "") -> CallResult[T]:
        """get_host -> fn(host) -> report with fn's duration: SYSTEM_ERROR when fn raises an Exception, SUCC otherwise."""
        picked = self.get_host(modid, cmdid, key)
        if picked.host is None:
            return CallResult(picked.retcode)
        host = picked.host
        started = time.perf_counter()
        try:
            value = fn(host)
        except Exception as error:
            self.report(modid, cmdid, host, RetCode.SYSTEM_ERROR, (time.perf_counter() - started) * 1000)
            return CallResult(RetCode.SYSTEM_ERROR, host, error=error)
        self.report(modid, cmdid, host, RetCode.SUCC, (time.perf_counter() - started) * 1000)
        return CallResult(RetCode.SUCC, host, value=value)

    def _open_socket(self) -> socket.socket:
        if self._socket is None:
            raise LarsError("LarsClient closed")
        return self._socket

    def _send(self, modid: int, cmdid: int, frame: bytes) -> int:
        port = agent_port(self._base_port, modid, cmdid)
        self._open_socket().sendto(frame, (self._agent_ip, port))
        return port

    def _receive(self, what: str, port: int, msgid: int, decode: Callable[[bytes], Any], wanted: Callable[[Any], bool]) -> Any:
        """The first reply of msgid from the agent's port that `wanted` accepts, before the timeout."""
        sock = self._open_socket()
        deadline = time.monotonic() + self._timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LarsTimeout(f"{what}: no answer from the lars agent within {self._timeout} s")
            sock.settimeout(left)
            try:
                datagram, source = sock.recvfrom(wire.MAX_FRAME + 1)
            except socket.timeout:
                continue
            except ConnectionError:
                # Windows hands an earlier ICMP "port unreachable" to the next recvfrom; the request still waits.
                continue
            if not _same_peer(source, self._agent_ip, port):
                continue
            got, body = wire.read_datagram(datagram)
            if got in _REPLIES and got != msgid:
                # A late answer to an earlier request of the other kind.
                continue
            if got != msgid:
                raise LarsProtocolError(f"{what}: msgid {got} where {msgid} was expected")
            reply = decode(body)
            if wanted(reply):
                return reply


def _same_peer(source: Tuple[Any, ...], ip: str, port: int) -> bool:
    return source[0] == ip and source[1] == port

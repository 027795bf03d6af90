"""The frames and messages the client exchanges with the agent (docs/protocol.md).

A frame is an 8-byte header (msgid, body length: int32 little-endian) and a
protobuf body. Only the fields of messages 4-8 are known here; any other
field is skipped, as protobuf readers do.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .errors import LarsProtocolError

GET_HOST_REQUEST = 4
GET_HOST_RESPONSE = 5
REPORT_REQUEST = 6
API_GET_ROUTE_REQUEST = 7
API_GET_ROUTE_RESPONSE = 8

HEADER = struct.Struct("<ii")
#: A frame's cap, header included; a UDP datagram holds exactly one frame.
MAX_FRAME = 65535

_VARINT = 0
_FIXED64 = 1
_LENGTH_DELIMITED = 2
_FIXED32 = 5

_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


def ip_to_int32(text: str) -> int:
    """Dotted quad -> the signed int32 the wire carries (128.0.0.0 and above are negative)."""
    if not isinstance(text, str) or not _IPV4.match(text):
        raise ValueError(f"not an IPv4 address: {text!r}")
    a, b, c, d = (int(part) for part in text.split("."))
    return _signed32((a << 24) | (b << 16) | (c << 8) | d)


def int_to_ip(value: int) -> str:
    """Wire int32 (or its unsigned value) -> dotted quad."""
    u = value & 0xFFFFFFFF
    return f"{u >> 24}.{(u >> 16) & 255}.{(u >> 8) & 255}.{u & 255}"


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _varint(value: int) -> bytes:
    # A negative int32 is sign-extended to 64 bits: a 10-byte varint.
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _int_field(number: int, value: int, always: bool = False) -> bytes:
    """A varint field; proto3 leaves a 0 out unless the field is optional and set."""
    return _tag(number, _VARINT) + _varint(value) if value or always else b""


def _bytes_field(number: int, value: bytes) -> bytes:
    return _tag(number, _LENGTH_DELIMITED) + _varint(len(value)) + value


def _read_varint(data: bytes, pos: int) -> Tuple[int, int]:
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise LarsProtocolError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
    raise LarsProtocolError("varint longer than 10 bytes")


def _fields(data: bytes) -> Dict[int, List[object]]:
    """Every field of a message body by number: varints as int, length-delimited as bytes; others skipped."""
    found: Dict[int, List[object]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise LarsProtocolError("field number 0")
        value: object
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == _LENGTH_DELIMITED:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise LarsProtocolError("truncated length-delimited field")
            value, pos = data[pos : pos + size], pos + size
        elif wire_type in (_FIXED64, _FIXED32):
            pos += 8 if wire_type == _FIXED64 else 4
            if pos > len(data):
                raise LarsProtocolError("truncated fixed-size field")
            continue
        else:
            raise LarsProtocolError(f"unsupported wire type {wire_type}")
        found.setdefault(number, []).append(value)
    return found


def _last_int(found: Dict[int, List[object]], number: int) -> int:
    values = found.get(number)
    if not values:
        return 0
    value = values[-1]
    if not isinstance(value, int):
        raise LarsProtocolError(f"field {number} is not a varint")
    return value


def _messages(found: Dict[int, List[object]], number: int) -> List[bytes]:
    values = found.get(number, [])
    if not all(isinstance(v, bytes) for v in values):
        raise LarsProtocolError(f"field {number} is not a message")
    return [v for v in values if isinstance(v, bytes)]


@dataclass(frozen=True)
class Host:
    """A host of a route: ip dotted (the wire's int32 converted), port."""

    ip: str
    port: int


@dataclass(frozen=True)
class GetHostReply:
    seq: int
    modid: int
    cmdid: int
    retcode: int
    host: Optional[Host]


@dataclass(frozen=True)
class RouteReply:
    modid: int
    cmdid: int
    hosts: List[Host] = field(default_factory=list)


def _host_body(host: Host) -> bytes:
    return _int_field(1, ip_to_int32(host.ip)) + _int_field(2, host.port)


def _decode_host(body: bytes) -> Host:
    found = _fields(body)
    return Host(ip=int_to_ip(_last_int(found, 1)), port=_signed32(_last_int(found, 2)))


def encode_frame(msgid: int, body: bytes) -> bytes:
    return HEADER.pack(msgid, len(body)) + body


def encode_get_host_request(seq: int, modid: int, cmdid: int, key: str = "") -> bytes:
    body = _int_field(1, seq & 0xFFFFFFFF) + _int_field(2, modid) + _int_field(3, cmdid)
    if key:
        body += _bytes_field(4, key.encode("utf-8"))
    return encode_frame(GET_HOST_REQUEST, body)


def encode_report_request(modid: int, cmdid: int, host: Host, retcode: int, duration_us: Optional[int] = None) -> bytes:
    body = _int_field(1, modid) + _int_field(2, cmdid) + _bytes_field(3, _host_body(host)) + _int_field(4, retcode)
    if duration_us is not None:
        body += _int_field(5, duration_us, always=True)
    return encode_frame(REPORT_REQUEST, body)


def encode_route_request(modid: int, cmdid: int) -> bytes:
    return encode_frame(API_GET_ROUTE_REQUEST, _int_field(1, modid) + _int_field(2, cmdid))


def decode_get_host_response(body: bytes) -> GetHostReply:
    found = _fields(body)
    hosts = _messages(found, 5)
    return GetHostReply(
        seq=_last_int(found, 1) & 0xFFFFFFFF,
        modid=_signed32(_last_int(found, 2)),
        cmdid=_signed32(_last_int(found, 3)),
        retcode=_signed32(_last_int(found, 4)),
        host=_decode_host(hosts[-1]) if hosts else None,
    )


def decode_route_response(body: bytes) -> RouteReply:
    found = _fields(body)
    return RouteReply(
        modid=_signed32(_last_int(found, 1)),
        cmdid=_signed32(_last_int(found, 2)),
        hosts=[_decode_host(h) for h in _messages(found, 3)],
    )


def read_datagram(datagram: bytes) -> Tuple[int, bytes]:
    """A datagram's msgid and body; LarsProtocolError unless it is exactly one frame within the cap."""
    if len(datagram) < HEADER.size:
        raise LarsProtocolError(f"{len(datagram)} bytes, less than a header")
    if len(datagram) > MAX_FRAME:
        raise LarsProtocolError(f"{len(datagram)} bytes exceeds the cap of {MAX_FRAME}")
    msgid, length = HEADER.unpack_from(datagram)
    if length != len(datagram) - HEADER.size:
        raise LarsProtocolError(f"header says {length} body bytes, datagram has {len(datagram) - HEADER.size}")
    return msgid, datagram[HEADER.size :]

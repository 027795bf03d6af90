"""The frames of lars_client against the hex vectors of the TypeScript wire tests (test/protocol/wire-vectors.test.ts, test/agent/wire.test.ts)."""
from __future__ import annotations

import unittest

from lars_client import LarsProtocolError, reported_duration_us
from lars_client import wire
from lars_client.wire import Host


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


LOCALHOST_9000 = Host("127.0.0.1", 9000)
# 10.0.0.1:9001 and 200.1.2.3:9002 (a negative int32: a 10-byte varint), as in test/agent/wire.test.ts.
HOST_A = "08 81 80 80 50  10 a9 46"
HOST_B = "08 83 84 84 c0 fc ff ff ff ff 01  10 aa 46"


class EncodeTest(unittest.TestCase):
    def test_get_host_request(self) -> None:
        self.assertEqual(wire.encode_get_host_request(1, 2, 3), hexbytes("04 00 00 00  06 00 00 00  08 01 10 02 18 03"))

    def test_get_host_request_with_a_large_seq(self) -> None:
        self.assertEqual(
            wire.encode_get_host_request(4000000000, 1, 3), hexbytes("04 00 00 00  0a 00 00 00  08 80 d0 ac f3 0e 10 01 18 03")
        )

    def test_report_request_overload(self) -> None:
        self.assertEqual(
            wire.encode_report_request(1, 2, LOCALHOST_9000, 1),
            hexbytes("06 00 00 00  11 00 00 00  08 01 10 02  1a 09 08 81 80 80 f8 07 10 a8 46  20 01"),
        )

    def test_report_request_with_a_duration(self) -> None:
        self.assertEqual(
            wire.encode_report_request(1, 2, LOCALHOST_9000, 0, reported_duration_us(1.5)),
            hexbytes("06 00 00 00  12 00 00 00  08 01 10 02  1a 09 08 81 80 80 f8 07 10 a8 46  28 dc 0b"),
        )

    def test_report_request_with_a_zero_duration_sends_it(self) -> None:
        self.assertEqual(
            wire.encode_report_request(1, 2, LOCALHOST_9000, 2, 0),
            hexbytes("06 00 00 00  13 00 00 00  08 01 10 02  1a 09 08 81 80 80 f8 07 10 a8 46  20 02  28 00"),
        )

    def test_report_request_with_the_largest_duration(self) -> None:
        self.assertEqual(
            wire.encode_report_request(1, 2, LOCALHOST_9000, 0, reported_duration_us(10**12)),
            hexbytes("06 00 00 00  15 00 00 00  08 01 10 02  1a 09 08 81 80 80 f8 07 10 a8 46  28 ff ff ff ff 0f"),
        )

    def test_report_of_a_host_at_or_above_128_0_0_0(self) -> None:
        failure = wire.encode_report_request(1, 3, Host("200.1.2.3", 9002), 2)
        self.assertEqual(failure, hexbytes(f"06 00 00 00  16 00 00 00  08 01 10 03  1a 0e {HOST_B}  20 02"))

    def test_route_request(self) -> None:
        self.assertEqual(wire.encode_route_request(2, 1), hexbytes("07 00 00 00  04 00 00 00  08 02 10 01"))


class DecodeTest(unittest.TestCase):
    def test_get_host_response_at_200_1_2_3(self) -> None:
        msgid, body = wire.read_datagram(
            hexbytes("05 00 00 00  16 00 00 00  08 07 10 01 18 02  2a 0e 08 83 84 84 c0 fc ff ff ff ff 01 10 90 3f")
        )
        self.assertEqual(msgid, wire.GET_HOST_RESPONSE)
        reply = wire.decode_get_host_response(body)
        self.assertEqual((reply.seq, reply.modid, reply.cmdid, reply.retcode), (7, 1, 2, 0))
        assert reply.host is not None
        self.assertEqual(reply.host, Host("200.1.2.3", 8080))

    def test_get_host_response_noexist_without_a_host(self) -> None:
        _, body = wire.read_datagram(hexbytes("05 00 00 00  08 00 00 00  08 08 10 09 18 09 20 03"))
        reply = wire.decode_get_host_response(body)
        self.assertEqual((reply.seq, reply.modid, reply.cmdid, reply.retcode, reply.host), (8, 9, 9, 3, None))

    def test_route_response_skips_the_weight_extension(self) -> None:
        _, body = wire.read_datagram(hexbytes(f"08 00 00 00  1e 00 00 00  08 01 10 03 1a 08 {HOST_A} 1a 0e {HOST_B}"))
        reply = wire.decode_route_response(body)
        self.assertEqual((reply.modid, reply.cmdid), (1, 3))
        self.assertEqual(reply.hosts, [Host("10.0.0.1", 9001), Host("200.1.2.3", 9002)])
        _, weighted = wire.read_datagram(hexbytes(f"08 00 00 00  10 00 00 00  08 02 10 01 1a 0a {HOST_A} 18 05"))
        self.assertEqual(wire.decode_route_response(weighted).hosts, [Host("10.0.0.1", 9001)])

    def test_ip_round_trip(self) -> None:
        for text, value in (("0.0.0.0", 0), ("127.0.0.1", 0x7F000001), ("200.1.2.3", -939458045), ("255.255.255.255", -1)):
            self.assertEqual(wire.ip_to_int32(text), value)
            self.assertEqual(wire.int_to_ip(value), text)
        for bad in ("256.0.0.1", "1.2.3", "01.2.3.4", "a.b.c.d"):
            with self.assertRaises(ValueError):
                wire.ip_to_int32(bad)

    def test_bad_datagrams(self) -> None:
        for text in ("04 00 00 00  00 00 00", "05 00 00 00  05 00 00 00  08 01", "05 00 00 00  ff ff ff ff"):
            with self.assertRaises(LarsProtocolError):
                wire.read_datagram(hexbytes(text))
        with self.assertRaises(LarsProtocolError):
            wire.read_datagram(wire.encode_frame(5, bytes(wire.MAX_FRAME)))

    def test_malformed_bodies(self) -> None:
        for text in ("08", "08 ff ff ff ff ff ff ff ff ff ff 01", "2a 05 08 01", "0b", "2a 02 08 01 2a"):
            with self.assertRaises(LarsProtocolError, msg=text):
                wire.decode_get_host_response(hexbytes(text))

    def test_duration_conversion(self) -> None:
        self.assertEqual(reported_duration_us(0.0005), 1)
        self.assertEqual(reported_duration_us(12.5), 12500)
        for bad in (-1, float("nan"), float("inf")):
            with self.assertRaises(ValueError):
                reported_duration_us(bad)


if __name__ == "__main__":
    unittest.main()

"""lars_client against a real `lars up` on loopback (the build in dist/; `npm run build` first).

LARS_REPO names the repository (default: three folders up) and LARS_NODE the
node executable (default: node on PATH).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

from lars_client import Host, LarsClient, LarsError, LarsProtocolError, LarsTimeout, RetCode

REPO = Path(os.environ.get("LARS_REPO", Path(__file__).resolve().parents[3]))
NODE = os.environ.get("LARS_NODE", "node")
MAIN = REPO / "dist" / "src" / "cli" / "main.js"
DEADLINE_S = 30
MODID, CMDID = 7, 3
HOSTS = [Host("10.0.0.1", 9001), Host("200.1.2.3", 9002)]

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], Optional[T]]) -> T:
    """probe's first non-None value, polling until DEADLINE_S passes."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {DEADLINE_S} s")


class AgentTest(unittest.TestCase):
    data_dir: str
    up: subprocess.Popen
    base_port: int

    @classmethod
    def setUpClass(cls) -> None:
        if not MAIN.exists():
            raise RuntimeError(f"{MAIN} is missing: run npm run build")
        cls.data_dir = tempfile.mkdtemp(prefix="lars-py-")
        ports = ["--dns-port", "0", "--reporter-port", "0", "--udp-base-port", "0", "--console-port", "0", "--admin", "off"]
        cls.up = subprocess.Popen(
            [NODE, str(MAIN), "up", "--data-dir", cls.data_dir, *ports],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            cls.base_port = cls.agent_base_port()
            cls.lars("module", "add", str(MODID), str(CMDID))
            for host in HOSTS:
                cls.lars("route", "add", str(MODID), str(CMDID), host.ip, str(host.port))
            cls.wait_for_the_route()
        except BaseException:
            # unittest runs no tearDownClass after a failed setUpClass; lars up must not outlive the test.
            cls.tearDownClass()
            raise

    @classmethod
    def wait_for_the_route(cls) -> None:
        """Until the agent holds both hosts: dns may hand it the route between the two adds."""
        with LarsClient("127.0.0.1", cls.base_port) as client:
            client.reg_init(MODID, CMDID)
            wait_for("both hosts at the agent", lambda: len(client.get_route(MODID, CMDID)) == len(HOSTS) or None)

    @classmethod
    def agent_base_port(cls) -> int:
        """The agent's first UDP port, from the summary lars up prints once everything runs."""
        summary: List[str] = []
        assert cls.up.stdout is not None
        for line in cls.up.stdout:
            summary.append(line)
            if line.startswith("Stop with Ctrl-C."):
                break
        agent = re.search(r"agent\s+udp 127\.0\.0\.1:(\d+),", "".join(summary))
        if agent is None:
            raise RuntimeError("lars up printed no agent ports:\n" + "".join(summary))
        return int(agent.group(1))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.up.terminate()
        cls.up.wait(DEADLINE_S)
        assert cls.up.stdout is not None
        cls.up.stdout.close()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    @classmethod
    def lars(cls, *args: str) -> str:
        store = f"sqlite:{cls.data_dir}/lars.db"
        run = subprocess.run([NODE, str(MAIN), *args, "--store", store], capture_output=True, text=True, timeout=DEADLINE_S)
        if run.returncode != 0:
            raise AssertionError(f"lars {' '.join(args)}: exit {run.returncode}\n{run.stderr}")
        return run.stdout

    def client(self, **options: float) -> LarsClient:
        client = LarsClient("127.0.0.1", self.base_port, **options)
        self.addCleanup(client.close)
        return client

    def test_get_host_answers_a_host_of_the_route(self) -> None:
        client = self.client()
        self.assertEqual(client.reg_init(MODID, CMDID), RetCode.SUCC)
        seen = {client.get_host(MODID, CMDID).host for _ in range(20)}
        self.assertEqual(seen, set(HOSTS), "both hosts, 200.1.2.3 dotted as the store holds it")

    def test_get_route_lists_the_hosts(self) -> None:
        client = self.client()
        client.reg_init(MODID, CMDID)
        self.assertEqual(sorted(client.get_route(MODID, CMDID), key=lambda h: h.port), HOSTS)

    def test_an_unknown_route_is_noexist_and_has_no_hosts(self) -> None:
        client = self.client()
        answer = client.get_host(99, 98)
        self.assertEqual((answer.retcode, answer.host), (RetCode.NOEXIST, None))
        self.assertEqual(client.get_route(99, 98), [])

    def test_report_and_call_reach_the_reporter(self) -> None:
        with LarsClient("127.0.0.1", self.base_port) as client:
            client.reg_init(MODID, CMDID)
            client.report(MODID, CMDID, HOSTS[1], RetCode.SUCC, duration_ms=2.5)
            ok = client.call(MODID, CMDID, lambda host: host.port)
            failed = client.call(MODID, CMDID, self.refuse)
        assert ok.host is not None
        self.assertEqual((ok.retcode, ok.value), (RetCode.SUCC, ok.host.port))
        self.assertEqual(failed.retcode, RetCode.SYSTEM_ERROR)
        self.assertIsInstance(failed.error, ConnectionRefusedError)

        # succ/err are the latest report's; windowSucc/windowErr add up every report of the window.
        def counted() -> Optional[tuple]:
            rows = json.loads(self.lars("status", str(MODID), str(CMDID), "--json"))["status"]
            total = (sum(r["windowSucc"] for r in rows), sum(r["windowErr"] for r in rows))
            return total if total == (2, 1) else None

        self.assertEqual(wait_for("the reports in lars status", counted), (2, 1))

    @staticmethod
    def refuse(host: Host) -> None:
        raise ConnectionRefusedError(f"{host.ip}:{host.port}")

    def test_a_closed_client_raises(self) -> None:
        client = self.client()
        client.close()
        with self.assertRaises(LarsError):
            client.get_host(MODID, CMDID)


class PeerTest(unittest.TestCase):
    """No agent, or something else answering on its port."""

    def peer(self) -> socket.socket:
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        self.addCleanup(peer.close)
        return peer

    def test_no_answer_is_a_timeout(self) -> None:
        # A bound socket that never answers: port base + (1 + 2) % 3 = base.
        silent = self.peer()
        with LarsClient("127.0.0.1", silent.getsockname()[1], timeout=0.2) as client:
            with self.assertRaises(LarsTimeout):
                client.get_host(1, 2)

    def test_garbage_from_the_agent_port_is_a_protocol_error(self) -> None:
        peer = self.peer()
        answers = [b"\x05\x00\x00\x00\x09\x00\x00\x00\x08", b"\x05\x00\x00\x00\x02\x00\x00\x00\x2a\x05", b"\x63\x00\x00\x00\x00\x00\x00\x00"]

        def answer() -> None:
            for garbage in answers:
                _, source = peer.recvfrom(65536)
                peer.sendto(garbage, source)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        with LarsClient("127.0.0.1", peer.getsockname()[1]) as client:
            for _ in answers:
                with self.assertRaises(LarsProtocolError):
                    client.get_host(1, 2)
        thread.join(DEADLINE_S)


if __name__ == "__main__":
    unittest.main()

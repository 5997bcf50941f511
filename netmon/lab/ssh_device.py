"""A simulated network device on 127.0.0.1 that netmiko can log in to over real SSH.

Used by the lab (``netmon demo`` gives one switch an SSH CLI) and by the tests.

An asyncssh server with a PTY shell and asyncssh's line editor (echo on) plays
a Cisco-like CLI: prompt ``NAME#`` (or ``NAME>`` until ``enable`` and its
``Password:``), the session set-up netmiko sends (``terminal width 511``,
``terminal length 0`` and friends) accepted silently, each command echoed and
answered from a dict of recorded outputs, ``% Invalid input detected at '^'
marker.`` for anything else, then the prompt again.

With ``style="aireos"`` it plays a Cisco AireOS controller instead, as netmiko's
``cisco_wlc_ssh`` driver expects one: after the SSH authentication the
controller asks ``User:`` and ``Password:`` again on the shell, then prompts
``(Cisco Controller) >``; ``config paging disable``/``enable`` are accepted
silently and an unknown command gets AireOS's "Incorrect usage" line. A
``responder`` (command -> output or None) answers commands whose output
changes with time (:mod:`netmon.lab.wlc_cli`).

Misbehaviours on request: reject every password, hang after login (never a
prompt, input swallowed), answer some commands with garbage, or answer slowly.

The server runs in a background thread with its own event loop, so that
blocking netmiko code in the test thread (or a pool) can talk to it. It listens
on a free port chosen by the kernel, with a host key generated at start, and
every wait in it is bounded: a session that idles or hangs ends by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import asyncssh

HOST = "127.0.0.1"
START_TIMEOUT = 10.0  # seconds to wait for the listener to come up
STOP_TIMEOUT = 5.0
IDLE_TIMEOUT = 60.0  # a session that sends nothing for this long is closed
HANG_SECONDS = 30.0  # how long a hanging session stays silent before the server drops it

# What netmiko's cisco_ios / cisco_nxos session preparation and clean-up send.
SESSION_COMMANDS = frozenset(
    {
        "terminal width 511",
        "terminal length 0",
        "terminal no monitor",
        "terminal exec prompt no-timestamp",
        "no terminal monitor",
    }
)
# What netmiko's cisco_wlc_ssh session preparation and clean-up send.
AIREOS_SESSION_COMMANDS = frozenset({"config paging disable", "config paging enable"})
AIREOS_PROMPT = "(Cisco Controller) >"
AIREOS_LOGIN_TRIES = 3
EXIT_COMMANDS = frozenset({"exit", "logout", "quit"})

GARBAGE = (
    "\x07@@ 0x7f3a Zq9#!  kernel: rcu_sched self-detected stall ~~\n"
    "%%%% 17 17 17 ::: ^^^ <<< lorem ipsum dolor >>> \\\\ ////\n"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    "{ 'not': 'a', 'cli': ['output'] } 3.14159 -2.71828 NaN\n"
)


@dataclass
class DeviceBehaviour:
    """How the fake device behaves; ``outputs`` maps a command to its recorded output."""

    hostname: str = "sw1"
    username: str = "netmon"
    password: str = "fake-device-password"
    outputs: dict[str, str] = field(default_factory=dict)
    enable_password: str | None = None  # set: start at NAME> and require `enable`
    reject_password: bool = False  # every password is wrong
    hang_after_login: bool = False  # accept the login, then never print anything
    garbage: frozenset[str] = frozenset()  # commands answered with noise instead of their output
    hang_on: frozenset[str] = frozenset()  # commands after which the device goes silent (echo, then nothing)
    delay: float = 0.0  # seconds before each answer (except to the session set-up commands)
    authorized_keys: tuple[str, ...] = ()  # OpenSSH public keys allowed to log in instead of the password
    prompt: str | None = None  # a fixed prompt instead of NAME# / NAME> (e.g. "user@box:~$ ": not a CLI)
    style: str = "ios"  # "ios" (NAME# / NAME>) or "aireos" (a second login on the shell, "(Cisco Controller) >")
    responder: Callable[[str], str | None] | None = field(default=None, repr=False)  # live outputs, before `outputs`


class _Server(asyncssh.SSHServer):
    def __init__(self, device: FakeDevice) -> None:
        self.device = device

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.device.connections += 1

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        b = self.device.behaviour
        if b.reject_password:
            return False
        if b.style == "aireos":
            return True  # AireOS checks the user on the shell, after the SSH handshake
        return username == b.username and password == b.password

    def public_key_auth_supported(self) -> bool:
        return bool(self.device.behaviour.authorized_keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        b = self.device.behaviour
        offered = key.export_public_key("openssh").decode().split()[:2]
        return username == b.username and any(offered == allowed.split()[:2] for allowed in b.authorized_keys)


class FakeDevice:
    """One fake device: ``with FakeDevice(DeviceBehaviour(...)) as dev: ... dev.port ...``."""

    def __init__(self, behaviour: DeviceBehaviour | None = None, port: int = 0) -> None:
        self.behaviour = behaviour or DeviceBehaviour()
        self.port = port  # 0: a free port chosen by the kernel
        self.commands: list[str] = []  # every command line received, in order (thread-safe appends)
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncssh.SSHAcceptor | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeDevice:
        self._thread = threading.Thread(target=self._run, name=f"fake-ssh-{self.behaviour.hostname}", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("fake SSH device did not start in time")
        if self._error is not None:
            raise RuntimeError(f"fake SSH device failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(self._begin_stop)
        thread.join(STOP_TIMEOUT)
        self._loop = self._thread = None

    def __enter__(self) -> FakeDevice:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._server = await asyncssh.create_server(
            lambda: _Server(self),
            HOST,
            self.port,
            server_host_keys=[host_key],
            process_factory=self._session,
            login_timeout=10,
            keepalive_interval=0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT)

    def _begin_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    # -- the shell ---------------------------------------------------------------------------

    def _prompt(self, enabled: bool) -> str:
        if self.behaviour.prompt is not None:
            return self.behaviour.prompt
        if self.behaviour.style == "aireos":
            return AIREOS_PROMPT
        return f"{self.behaviour.hostname}{'#' if enabled else '>'}"

    async def _readline(self, process: asyncssh.SSHServerProcess) -> str | None:
        """One input line, or None at EOF, on idle timeout or when the server stops."""
        assert self._stopping is not None
        read = asyncio.ensure_future(process.stdin.readline())
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({read, stop}, timeout=IDLE_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if read not in done:
            read.cancel()
            return None
        try:
            line = read.result()
        except (asyncssh.Error, asyncssh.BreakReceived, asyncssh.SignalReceived, asyncssh.TerminalSizeChanged):
            return ""  # a terminal event, not a line: treat as an empty line
        return line or None  # "" from readline() is EOF

    async def _session(self, process: asyncssh.SSHServerProcess) -> None:
        b = self.behaviour
        try:
            if b.hang_after_login:
                # Logged in, then silence: no echo, no prompt, input ignored, until the bound.
                process.channel.set_echo(False)
                assert self._stopping is not None
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), HANG_SECONDS)
                return
            aireos = b.style == "aireos"
            if aireos and not await self._aireos_login(process):
                return
            enabled = b.enable_password is None
            process.stdout.write(self._prompt(enabled))
            while True:
                line = await self._readline(process)
                if line is None:
                    return
                command = " ".join(line.split())
                if command:
                    self.commands.append(command)
                if command in EXIT_COMMANDS:
                    return
                setup = command in (AIREOS_SESSION_COMMANDS if aireos else SESSION_COMMANDS)
                if b.delay and command and not setup:
                    # Not the set-up commands: netmiko does not wait for their prompt, and asyncssh's line
                    # editor echoes typed-ahead input at once (a real CLI echoes it after its prompt), so a
                    # late set-up answer would put this fake out of step where a real device is not.
                    await asyncio.sleep(b.delay)
                if command in b.hang_on:
                    assert self._stopping is not None
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), HANG_SECONDS)
                    return
                answer = None
                if b.responder is not None and command and not setup and command not in b.garbage:
                    answer = await asyncio.get_running_loop().run_in_executor(None, b.responder, command)
                if answer is not None:
                    process.stdout.write(answer if answer.endswith("\n") or not answer else answer + "\n")
                elif not command or setup:
                    pass
                elif command == "enable":
                    if not enabled:
                        enabled = await self._enable(process)
                elif command in b.garbage:
                    process.stdout.write(GARBAGE)
                elif command in b.outputs:
                    text = b.outputs[command]
                    process.stdout.write(text if text.endswith("\n") or not text else text + "\n")
                elif aireos:
                    process.stdout.write("\nIncorrect usage. Use the '?' or <TAB> key to list commands.\n\n")
                else:
                    caret = " " * (len(self._prompt(enabled)) + len(command.split()[0]) + 1) + "^"
                    process.stdout.write(f"{caret}\n% Invalid input detected at '^' marker.\n\n")
                process.stdout.write(self._prompt(enabled))
        except (asyncssh.Error, OSError, BrokenPipeError):
            pass  # the client went away mid-answer
        finally:
            process.exit(0)

    async def _aireos_login(self, process: asyncssh.SSHServerProcess) -> bool:
        """AireOS asks for the user name and password again on the shell, after SSH authentication."""
        b = self.behaviour
        process.stdout.write("\n(Cisco Controller)\n")
        for _ in range(AIREOS_LOGIN_TRIES):
            process.stdout.write("User: ")
            user = await self._readline(process)
            if user is None:
                return False
            secret = await self._read_secret(process, "Password:")
            if secret is None:
                return False
            process.stdout.write("\n")
            if not b.reject_password and user.strip() == b.username and secret.strip() == b.password:
                return True
            process.stdout.write("Login incorrect.\n")
        return False

    async def _read_secret(self, process: asyncssh.SSHServerProcess, prompt: str) -> str | None:
        """A password typed at ``prompt``, not echoed (as a device does)."""
        process.stdout.write(prompt)
        process.channel.set_echo(False)
        try:
            return await self._readline(process)
        finally:
            process.channel.set_echo(True)

    async def _enable(self, process: asyncssh.SSHServerProcess) -> bool:
        secret = await self._read_secret(process, "Password: ")
        process.stdout.write("\n")
        if secret is not None and secret.strip() == self.behaviour.enable_password:
            return True
        process.stdout.write("% Access denied\n\n")
        return False


def closed_port() -> int:
    """A loopback TCP port with nothing listening on it (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_port(max_seconds: float = 30.0):
    """A loopback port that accepts TCP connections and never says anything (no SSH banner).

    Yields the port. Accepted connections are held open until the block exits or
    ``max_seconds`` pass, whichever comes first.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_loop() -> None:
        deadline = time.monotonic() + max_seconds
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept_loop, name="silent-port", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(STOP_TIMEOUT)
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def fake_devices(behaviours: Iterable[DeviceBehaviour]):
    """Start several fake devices; all are stopped on exit, even if one fails to start."""
    started: list[FakeDevice] = []
    try:
        for b in behaviours:
            started.append(FakeDevice(b).start())
        yield started
    finally:
        for dev in started:
            dev.stop()

"""The SSH ``cli`` collector: netmiko logs in, runs a few ``show`` commands, and
ntc-templates' TextFSM templates turn the output into the same observations the
SNMP collectors return (SystemInfo, HardwareItem, OpticReading, Neighbor).

netmiko is blocking, so :func:`collect` is a plain synchronous function meant to
run in a bounded thread pool (the scheduler's ``ThreadPoolExecutor``);
:func:`collect_many` is the asyncio convenience for several devices at once.

Neither ever raises. Every failure becomes a
:class:`~collectors.observations.CollectorError` with a short reason:

- ``auth``: the device refused the username/password/key (or the enable secret);
- ``timeout``: no TCP connection, no SSH banner, or no output at all within the limit;
- ``prompt``: logged in, but no CLI prompt (``#``/``>``) came back: not a CLI, a menu, a pager;
- ``parse``: a command's output parsed to nothing (garbage, or the device rejected the command);
- ``ssh``: any other SSH failure (refused connection, handshake, host key, connection lost);
- ``internal``: a bug or an unsupported device type.

A session failure (login, prompt) is reported once with collector ``cli``; a
command failure with collector ``cli.<kind>`` (``cli.system``, ``cli.hardware``,
``cli.optics``, ``cli.lldp``, ``cli.cdp``), and the other commands still run.
After a command times out the session is out of step with the device, so the
rest are skipped (and say so). Messages never contain the password or the
enable secret: every message is scrubbed of both before it is stored.

Time bounds per device: TCP connect + SSH banner + authentication, then
``prompt`` seconds for each step of netmiko's session preparation (a silent
device fails at the first, and netmiko waits up to ``prompt`` once more while
logging out of it: about 2 x ``prompt`` in all), then at most ``command``
seconds per command (up to twice that if the device echoes slowly and then
answers slowly), 1 s to log out, and no new command starts after ``total``.

Parsing is :func:`collectors.cli_parsers.parse_rows`: ntc-templates'
``parse_output``, the same TextFSM ``CliTable`` index netmiko's
``send_command(..., use_textfsm=True)`` uses. The collector reads the raw text
and parses it itself so that it can tell an empty answer ("no neighbours")
from garbage and from "% Invalid input", which ``use_textfsm`` would all hand
back as the same unparsed string.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from collectors import cli_parsers
from collectors.base import Context, DeviceFacts, SshCollector, SshSession
from collectors.credentials import SshCredentials
from collectors.observations import (
    CollectorError,
    CollectorRun,
    Hardware,
    HardwareItem,
    Neighbor,
    Neighbors,
    OpticReading,
    Optics,
    Steps,
    SystemInfo,
)

log = logging.getLogger(__name__)

name = "cli"
REASONS = ("auth", "timeout", "prompt", "parse", "ssh", "internal")
CLOSE_TIMEOUT = 1.0  # seconds netmiko may wait for a prompt while logging out
MAX_MESSAGE = 300
_SHELL_LOGIN_REFUSED = re.compile(r"^(login incorrect\.?|access denied\.?|user:?)$", re.I)


@dataclass(frozen=True)
class CliTimeouts:
    """Seconds. ``prompt`` bounds each step of the session set-up after login
    (netmiko's ``read_timeout_override`` while connecting); ``command`` bounds
    each command; no command starts after ``total``."""

    connect: float = 10.0
    banner: float = 10.0
    auth: float = 10.0
    prompt: float = 10.0
    command: float = 30.0
    total: float = 180.0


@dataclass
class CliResult:
    """What one device gave. A list is ``None`` when it was not collected or its command failed
    (see ``errors``); an empty list means the device has none (no optics, no neighbours)."""

    host: str
    port: int
    device_type: str
    name: str = ""  # the caller's label for the device (inventory hostname), if any
    system: SystemInfo | None = None
    hardware: list[HardwareItem] | None = None
    optics: list[OpticReading] | None = None
    lldp: list[Neighbor] | None = None
    cdp: list[Neighbor] | None = None
    errors: list[CollectorError] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)  # "connect" and each kind, seconds
    duration: float = 0.0  # the whole device, seconds

    @property
    def neighbors(self) -> list[Neighbor]:
        """LLDP and CDP neighbours together (either may be missing)."""
        return [*(self.lldp or []), *(self.cdp or [])]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CliTarget:
    """One device for :func:`collect_many`."""

    host: str
    credentials: SshCredentials
    port: int = 22
    device_type: str = "cisco_ios"
    name: str = ""
    enable_secret: str | None = field(default=None, repr=False)
    timeouts: CliTimeouts | None = None  # None: collect_many's
    kinds: tuple[str, ...] | None = None  # None: every kind the platform supports
    known_hosts: str | None = None


class CliFailure(Exception):
    """A failure with one of :data:`REASONS` and a message that is safe to store."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _capture():
    """A netmiko session log kept in memory during login, to tell "said nothing" from
    "said something that is not a prompt". What is read once netmiko starts logging
    out (``fin``) is ignored, and so are its own writes."""
    from netmiko.session_log import SessionLog

    class Capture(SessionLog):
        def __init__(self) -> None:
            super().__init__()
            self.received = io.StringIO()

        def write(self, data: str) -> None:
            if not self.fin and self.received.tell() < 65536:
                self.received.write(data)

        def getvalue(self) -> bytes:
            return self.received.getvalue().encode("utf-8", "replace")

    return Capture()


def _scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _last_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)  # ANSI escapes
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    return lines[-1][:80] if lines else ""


def _exception_chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(out) < 8:
        out.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return out


def _connect_failure(
    exc: BaseException, where: str, timeouts: CliTimeouts, username: str, captured: bytes
) -> CliFailure:
    """Map what netmiko/paramiko raised while connecting to a reason and a readable message."""
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadException
    from paramiko.ssh_exception import AuthenticationException, SSHException

    if isinstance(exc, NetmikoAuthenticationException | AuthenticationException):
        return CliFailure("auth", f"{where}: authentication failed for user {username!r}")
    if isinstance(exc, ReadException):  # ReadTimeout and friends: logged in, no usable prompt
        said = _last_line(captured)
        if _SHELL_LOGIN_REFUSED.search(said):  # AireOS: the SSH login passed, the shell's own login did not
            return CliFailure("auth", f"{where}: the device refused the login for user {username!r}")
        if not said:
            return CliFailure("timeout", f"{where}: logged in, but the device sent nothing for {timeouts.prompt:g} s")
        return CliFailure("prompt", f"{where}: logged in, but no CLI prompt appeared; last line was {said!r}")
    if isinstance(exc, ValueError) and "prompt" in str(exc).lower():
        said = _last_line(captured)
        return CliFailure("prompt", f"{where}: logged in, but no CLI prompt appeared; last line was {said!r}")
    if isinstance(exc, NetmikoTimeoutException):
        chain = _exception_chain(exc)[1:]
        timed_out = any(isinstance(inner, socket.timeout | TimeoutError) for inner in chain)
        for inner in chain:
            if isinstance(inner, SSHException) and "banner" in str(inner).lower():
                # TCP connected, but no SSH greeting: a silent service, or not SSH at all
                if timed_out:
                    return CliFailure("timeout", f"{where}: no SSH banner within {timeouts.banner:g} s")
                return CliFailure("ssh", f"{where}: SSH handshake failed: {first_line(str(inner))}")
        for inner in chain:
            wrapped = list(getattr(inner, "errors", {}).values())  # paramiko's NoValidConnectionsError
            if wrapped and all(isinstance(e, ConnectionRefusedError) for e in wrapped):
                return CliFailure("ssh", f"{where}: connection refused")
            if isinstance(inner, socket.timeout | TimeoutError):
                return CliFailure("timeout", f"{where}: TCP connection timed out after {timeouts.connect:g} s")
            if isinstance(inner, ConnectionRefusedError):
                return CliFailure("ssh", f"{where}: connection refused")
            if isinstance(inner, socket.gaierror):
                return CliFailure("ssh", f"{where}: host name does not resolve")
            if isinstance(inner, OSError):
                return CliFailure("ssh", f"{where}: TCP connection failed: {inner.strerror or inner}")
        detail = ""
        for line in str(exc).splitlines():
            if line.strip() and "paramiko SSHException" not in line:
                detail = line.strip()
                break
        lowered = str(exc).lower()
        if "no existing session" in lowered:  # the transport died before authentication: no banner or handshake
            limit = max(timeouts.connect, timeouts.banner)
            return CliFailure("timeout", f"{where}: no SSH session within {limit:g} s (no SSH banner or handshake)")
        if "timed out" in lowered or "timeout" in lowered:
            return CliFailure("timeout", f"{where}: SSH negotiation timed out ({detail})")
        return CliFailure("ssh", f"{where}: SSH failed: {detail or type(exc).__name__}")
    if isinstance(exc, SSHException | EOFError | OSError):
        return CliFailure("ssh", f"{where}: SSH failed: {first_line(str(exc)) or type(exc).__name__}")
    return CliFailure("internal", f"{where}: {type(exc).__name__}: {first_line(str(exc))}")


def _connect(
    host: str,
    port: int,
    device_type: str,
    credentials: SshCredentials,
    timeouts: CliTimeouts,
    known_hosts: str | None,
):
    from netmiko import ConnectHandler

    params: dict = {
        "device_type": device_type,
        "host": host,
        "port": port,
        "username": credentials.username,
        "password": credentials.password,
        "conn_timeout": timeouts.connect,
        "banner_timeout": timeouts.banner,
        "auth_timeout": timeouts.auth,
        # netmiko's session preparation reads with hard-coded 10-20 s limits; this caps them all.
        "read_timeout_override": timeouts.prompt,
        "blocking_timeout": max(timeouts.command, 1.0),
        "allow_agent": False,
        "system_host_keys": False,
        "fast_cli": True,
    }
    if credentials.key_file:
        params.update(use_keys=True, key_file=credentials.key_file)
    if known_hosts:
        # Verify the device's host key against a known_hosts file; an unknown key is refused.
        params.update(ssh_strict=True, alt_host_keys=True, alt_key_file=known_hosts)
    capture = _capture()
    params["session_log"] = capture
    where = f"{host}:{port}"
    try:
        conn = ConnectHandler(**params)
    except Exception as exc:
        raise _connect_failure(exc, where, timeouts, credentials.username, capture.getvalue()) from None
    # Stop logging the session: it was only needed to explain a failed login.
    try:
        if conn.session_log:
            conn.session_log.close()
    finally:
        conn.session_log = None
    conn.read_timeout_override = timeouts.command
    return conn


def log_out(conn) -> None:
    """Log out without waiting long on a device that has stopped answering."""
    try:
        conn.read_timeout_override = CLOSE_TIMEOUT
        conn.disconnect()
    except Exception:  # a dead session is closed either way
        log.debug("cli: error while disconnecting", exc_info=True)


def _enable(conn, enable_secret: str, where: str) -> None:
    try:
        conn.secret = enable_secret
        conn.enable()
    except ValueError:
        raise CliFailure("auth", f"{where}: enable secret rejected") from None


def _prompt_pattern(conn) -> str:
    """The device's prompt at the end of the output: "<base prompt>…#" or "…>"."""
    return re.escape(conn.base_prompt) + r"[^\n]{0,64}[#>]\s*$"


def recorder(
    errors: list[CollectorError], secrets: Iterable[str | None], label: str
) -> Callable[[str, str, str], None]:
    """``fail(collector, reason, message)``: the message scrubbed of ``secrets``, bounded, kept in ``errors``."""
    secrets = tuple(secrets)

    def fail(collector: str, reason: str, message: str) -> None:
        message = _scrub(message, secrets)
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        errors.append(CollectorError(collector, reason, message))
        log.debug("%s: %s: %s (%s)", label, collector, message, reason)

    return fail


def run_session(
    host: str,
    port: int,
    device_type: str,
    credentials: SshCredentials,
    timeouts: CliTimeouts,
    commands: Iterable[tuple[str, str]],
    on_output: Callable[[str, str, str, object], None],
    fail: Callable[[str, str, str], None],
    durations: dict[str, float],
    *,
    started: float,
    enable_secret: str | None = None,
    known_hosts: str | None = None,
    prefix: str = name,
    close: Callable[[object], None] | None = None,
) -> None:
    """Log in, run each ``(kind, command)`` and hand its raw output to ``on_output(kind, command,
    raw, conn)``; never raises. A login failure is reported once as collector ``cli``; a command's
    as ``<prefix>.<kind>``. After a command hangs or the connection drops, the rest are reported
    as not run; none starts after ``timeouts.total`` (counted from ``started``). ``enable_secret``
    (when given) is sent with ``enable`` if the device starts in user EXEC. ``close`` logs out
    (default: netmiko's own clean-up, bounded)."""
    where = f"{host}:{port}"
    conn = None
    try:
        t = time.monotonic()
        try:
            conn = _connect(host, port, device_type, credentials, timeouts, known_hosts)
            if enable_secret and not conn.check_enable_mode():
                _enable(conn, enable_secret, where)
        finally:
            durations["connect"] = time.monotonic() - t
        _run_commands(conn, commands, timeouts, started, durations, fail, on_output, prefix)
    except CliFailure as failure:
        fail(name, failure.reason, failure.message)
    except Exception as exc:
        reason = "ssh" if isinstance(exc, EOFError | OSError) else "internal"
        fail(name, reason, f"{where}: {type(exc).__name__}: {first_line(str(exc))}")
    finally:
        if conn is not None:
            (close or log_out)(conn)


def collect(
    host: str,
    port: int,
    device_type: str,
    credentials: SshCredentials,
    timeouts: CliTimeouts | None = None,
    *,
    enable_secret: str | None = None,
    kinds: Iterable[str] | None = None,
    known_hosts: str | None = None,
    label: str = "",
) -> CliResult:
    """Log in to one device over SSH and collect; never raises.

    ``device_type`` is netmiko's (``cisco_ios``, ``cisco_xe``, ``cisco_nxos``,
    ``arista_eos``, ``juniper_junos``). ``kinds`` limits the commands (see
    :data:`collectors.cli_parsers.KINDS`); by default every kind the platform has
    a template for runs. ``enable_secret`` is sent with ``enable`` when the
    device starts in user EXEC (``>``); without it the commands run there.
    ``known_hosts`` (a file in OpenSSH format) turns host key checking on.
    """
    timeouts = timeouts or CliTimeouts()
    started = time.monotonic()
    result = CliResult(host=host, port=port, device_type=device_type, name=label)
    fail = recorder(result.errors, (credentials.password, enable_secret), label or f"{host}:{port}")

    try:
        platform = cli_parsers.template_platform(device_type)
        wanted = set(cli_parsers.KINDS if kinds is None else kinds)
        unknown = wanted - set(cli_parsers.KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}")
        commands = [(k, c) for k, c in cli_parsers.COMMANDS[platform].items() if k in wanted]
    except ValueError as exc:
        fail(name, "internal", str(exc))
        result.duration = time.monotonic() - started
        return result

    def on_output(kind: str, command: str, raw: str, conn) -> None:
        try:
            value = interpret(kind, platform, command, raw, conn.base_prompt or "")
        except CliFailure as failure:
            fail(f"{name}.{kind}", failure.reason, failure.message)
        except Exception as exc:
            fail(f"{name}.{kind}", "internal", f"{command}: {type(exc).__name__}: {first_line(str(exc))}")
        else:
            setattr(result, kind, value)

    run_session(
        host, port, device_type, credentials, timeouts, commands, on_output, fail, result.durations,
        started=started, enable_secret=None if platform == "juniper_junos" else enable_secret,
        known_hosts=known_hosts,
    )  # fmt: skip
    result.duration = time.monotonic() - started
    return result


def _run_commands(conn, commands, timeouts: CliTimeouts, started: float, durations, fail, on_output, prefix) -> None:
    from netmiko.exceptions import ReadException
    from paramiko.ssh_exception import SSHException

    expect = _prompt_pattern(conn)
    broken: tuple[str, str] | None = None  # (reason, why) once the session is unusable
    for kind, command in commands:
        collector = f"{prefix}.{kind}"
        if broken is not None:
            fail(collector, broken[0], f"{command}: not run, {broken[1]}")
            continue
        if time.monotonic() - started > timeouts.total:
            fail(collector, "timeout", f"{command}: not run, the device used up its {timeouts.total:g} s")
            continue
        t = time.monotonic()
        try:
            raw = conn.send_command(
                command,
                expect_string=expect,
                read_timeout=timeouts.command,
                strip_prompt=True,
                strip_command=True,
            )
        except ReadException:
            fail(collector, "timeout", f"{command}: no prompt within {timeouts.command:g} s")
            broken = ("timeout", f"the session hung on {command!r}")
        except (SSHException, EOFError, OSError) as exc:
            fail(collector, "ssh", f"{command}: connection lost ({type(exc).__name__})")
            broken = ("ssh", f"the connection was lost during {command!r}")
        else:
            on_output(kind, command, str(raw), conn)
        durations[kind] = time.monotonic() - t


def interpret(kind: str, platform: str, command: str, raw: str, fallback_name: str = ""):
    """One command's raw output -> its observations (SystemInfo, or a list for the other
    kinds); raises :class:`CliFailure` with reason ``parse`` when the output is not
    understood or the device rejected the command. Empty lists only for outputs that say
    there is nothing (no neighbours, LLDP/CDP disabled, no optics)."""
    try:
        rows = cli_parsers.parse_rows(platform, command, raw)
    except cli_parsers.CliParseError as exc:
        error = cli_parsers.device_error(raw)
        if error:
            raise CliFailure("parse", f"{command}: the device rejected the command: {error}") from None
        if kind in ("lldp", "cdp", "optics") and (
            cli_parsers.feature_disabled(raw) or cli_parsers.empty_output_ok(raw)
        ):
            return []
        raise CliFailure("parse", f"{command}: output not understood ({exc})") from None
    value = cli_parsers.observations(kind, platform, rows, fallback_name)
    if rows and value not in (None, []):
        return value
    if kind in ("lldp", "cdp", "optics"):
        if rows:
            return value  # rows without readings: optics present without DOM, say
        if cli_parsers.feature_disabled(raw) or cli_parsers.empty_output_ok(raw):
            return []
    error = cli_parsers.device_error(raw)
    if error:
        raise CliFailure("parse", f"{command}: the device rejected the command: {error}")
    lines = len([line for line in raw.splitlines() if line.strip()])
    raise CliFailure("parse", f"{command}: nothing recognisable in the output ({lines} non-blank lines)")


async def collect_many(
    devices: Iterable[CliTarget],
    max_workers: int = 8,
    timeouts: CliTimeouts | None = None,
    on_result: Callable[[CliTarget, CliResult], None] | None = None,
) -> list[CliResult]:
    """Collect several devices in a bounded thread pool; results in the order given; never raises.

    At most ``max_workers`` SSH sessions run at once; a dead or hanging device
    occupies one worker for its own timeouts and delays no other. ``on_result``
    is called on the event loop as each device finishes. If this coroutine is
    cancelled, devices not yet started are dropped; running ones end within
    their own time bounds.
    """
    targets = list(devices)
    if not targets:
        return []
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(targets))), thread_name_prefix="netmon-cli")

    async def one(target: CliTarget) -> CliResult:
        call = functools.partial(
            collect,
            target.host,
            target.port,
            target.device_type,
            target.credentials,
            target.timeouts or timeouts,
            enable_secret=target.enable_secret,
            kinds=target.kinds,
            known_hosts=target.known_hosts,
            label=target.name,
        )
        try:
            result = await loop.run_in_executor(pool, call)
        except Exception as exc:  # collect() never raises; this would be the pool itself failing
            result = CliResult(target.host, target.port, target.device_type, name=target.name)
            message = _scrub(f"{type(exc).__name__}: {first_line(str(exc))}", (target.credentials.password,))
            result.errors.append(CollectorError(name, "internal", message))
        if on_result is not None:
            try:
                on_result(target, result)
            except Exception:
                log.exception("cli: on_result callback failed for %s", target.name or target.host)
        return result

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


# -- the collector: switch-style SSH collection on its own schedule ----------------------------------------------


def runs(result: CliResult) -> list[CollectorRun]:
    """The SSH collector's timings and errors as collector runs: ``cli`` (the session) and ``cli.<kind>``."""
    failed = {e.collector: e.reason for e in result.errors}
    out = []
    for kind, seconds in result.durations.items():
        run = name if kind == "connect" else f"{name}.{kind}"
        out.append(CollectorRun(run, seconds, failed.pop(run, None)))
    out += [CollectorRun(run, 0.0, reason) for run, reason in failed.items()]
    return out


def steps(result: CliResult) -> Steps:
    """What the session gave, as observations (a list the device did not give is left out) and runs."""
    found: list = []
    if result.system is not None:
        found.append(result.system)
    if result.hardware is not None:
        found.append(Hardware(result.hardware))
    if result.optics is not None:
        found.append(Optics(result.optics))
    found += [Neighbors(p, n) for p, n in (("lldp", result.lldp), ("cdp", result.cdp)) if n is not None]
    return Steps(observations=found, runs=runs(result), errors=list(result.errors))


def _handles(device: DeviceFacts) -> bool:
    # A controller's CLI is read by the wlc poll instead (collectors.wlc.cli).
    return bool(device.ssh_profile) and device.platform in cli_parsers.PLATFORMS


async def _read(session: SshSession, context: Context) -> Steps:
    creds = session.credentials
    call = functools.partial(
        collect, session.host, session.port, session.platform, creds,
        enable_secret=creds.enable_secret, label=session.label,
    )  # fmt: skip
    return steps(await session.run(call))


COLLECTOR = SshCollector(name, "cli", _read, _handles)

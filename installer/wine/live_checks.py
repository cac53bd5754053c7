"""The installed Windows build, running under Wine, against the Linux SDK on loopback.

    python installer/wine/live_checks.py interop --app-dir 'C:\\Program Files\\Sigphone' \\
        --profile-dir PREFIX/drive_c/users/root/AppData/Local/Sigphone/Sigphone --shots DIR
    python installer/wine/live_checks.py demo --app-dir ... --log FILE --shots DIR

Run by installer/windows-on-wine.sh with the Linux venv's Python and the Wine environment
(WINEPREFIX, DISPLAY on Xvfb) already set. Every check waits for a real event (a message, an
invitation, a log line, a process exit) with a bound, never for a fixed time, except the
demo's screenshots, which wait for Wine to paint.

``interop``: the Windows ``sigphone-server.exe`` serves on 127.0.0.1; Linux SDK clients log
in, message and call through it; then the Windows softphone (``wine start tel:...``,
auto-login from its settings file) calls a Linux client, a second ``sigphone.exe sigphone:bob``
hands its link to the first instance and exits, and ``sigphone.exe --quit`` ends it.
``demo``: ``sigphone.exe --demo`` on the virtual screen, driven with xdotool (alice calls bob,
bob answers), with screenshots along the way, then Ctrl+Q and a clean exit.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xshot import grab

from sigphone.sdk import Call, Session, Signal

APP = "demo"  # no certificate: clients log in with _no_need_token
TOKEN = "_no_need_token"
WIN_ACCOUNT = "winphone"


def say(text: str) -> None:
    print(f"  {text}", flush=True)


async def until(predicate: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {within:.0f} s")
        await asyncio.sleep(0.05)


def wine(*args: str) -> list[str]:
    return ["wine", *args]


async def run_windows(*args: str, within: float = 120) -> tuple[int, str]:
    """A Windows program to its end; output through a pipe (a file would kill it, RECIPES)."""
    proc = await asyncio.create_subprocess_exec(
        *wine(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), within)
    return proc.returncode or 0, "\n".join(
        line
        for line in out.decode(errors="replace").splitlines()
        if not line.startswith("ALSA lib")
    )


async def start_windows(*args: str, within: float = 60) -> int:
    """``wine start ...``: returns once the program is launched. Its output is not read: the
    program it starts would inherit the pipe and hold it open for as long as it runs."""
    proc = await asyncio.create_subprocess_exec(
        *wine("start", *args),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(proc.wait(), within)


class Server:
    """sigphone-server.exe under Wine, on a free loopback port, everything in memory."""

    def __init__(self, app_dir: str) -> None:
        self.exe = app_dir + "\\sigphone-server.exe"
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> Server:
        self.proc = await asyncio.create_subprocess_exec(
            *wine(self.exe, "--host", "127.0.0.1", "--port", "0", "--memory", "--no-api",
                  "--app", APP),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        seen = []
        async with asyncio.timeout(120):
            while not self.url:
                line = (await self.proc.stdout.readline()).decode(errors="replace")
                if not line:
                    raise RuntimeError("sigphone-server.exe exited:\n" + "".join(seen))
                seen.append(line)
                if match := re.search(r"listening on (ws://[\d.]+:\d+)", line):
                    self.url = match.group(1)
        asyncio.get_running_loop().create_task(self._drain())
        return self

    async def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while await self.proc.stdout.readline():
            pass

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 30)

    async def login(self, account: str) -> Session:
        return await Signal(APP, server=self.url).login(account, TOKEN)


class Inbox:
    """Everything a Linux SDK session receives, for the checks to wait on."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.messages: list[tuple[str, str]] = []
        self.calls: list[Call] = []
        self.events: list[tuple[str, str]] = []
        session.on_message_instant_receive = lambda peer, _uid, msg: self.messages.append(
            (peer, msg)
        )
        session.on_invite_received = self._invited

    def _invited(self, call: Call) -> None:
        self.calls.append(call)
        self.watch(call)

    def watch(self, call: Call) -> None:
        for what in ("received_by_peer", "accepted_by_peer", "refused_by_peer", "failed",
                     "end_by_peer", "end_by_myself", "msg"):  # fmt: skip
            setattr(call, f"on_invite_{what}", lambda extra, w=what: self.events.append((w, extra)))


async def remember_login(profile_dir: Path, server_url: str, windows_python: str) -> Path:
    """What "Remember these details" and "Start minimised" leave behind: the INI file, and
    the token in Windows' Credential Manager (sigphone.phone.credentials), written here by
    the Windows Python's keyring and read by the frozen app: the same store, under Wine."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    ini = profile_dir / "sigphone.ini"
    ini.write_text(
        "[login]\n"
        f"server={server_url}\napp_id={APP}\naccount={WIN_ACCOUNT}\n"
        "remember=true\n\n[ui]\nstart_minimised=true\n",
        encoding="utf-8",
    )
    code, out = await run_windows(windows_python, "-c", (
        "import keyring; from sigphone.phone.credentials import TokenVault; "
        "v = TokenVault(); print(v.name); "
        f"assert v.put({APP!r}, {WIN_ACCOUNT!r}, {TOKEN!r})"
    ))  # fmt: skip
    assert code == 0, out
    say(f"token stored in the Windows keyring ({out.strip().splitlines()[-1]})")
    return ini


async def interop(args: argparse.Namespace) -> None:
    app_exe = args.app_dir + "\\sigphone.exe"
    log_file = args.profile_dir / "Logs" / "sigphone.log"
    async with Server(args.app_dir) as server:
        say(f"sigphone-server.exe (Windows) listens on {server.url}")

        # 1. Linux SDK clients through the Windows server: login, messages, a call, presence.
        alice, bob = Inbox(await server.login("alice")), Inbox(await server.login("bob"))
        say("Linux SDK: alice and bob logged in")
        await alice.session.message_instant_send("bob", "hello from Linux")
        await bob.session.message_instant_send("alice", "hello back")
        await until(lambda: ("alice", "hello from Linux") in bob.messages, 20, "message to bob")
        await until(lambda: ("bob", "hello back") in alice.messages, 20, "message to alice")
        say("messages both ways")
        call = await alice.session.channel_invite_user2("room", "bob", "")
        alice.watch(call)
        await until(lambda: bob.calls, 20, "invitation at bob")
        await bob.calls[0].channel_invite_accept()
        await until(lambda: ("accepted_by_peer", "") in alice.events, 20, "accept at alice")
        await call.channel_invite_dtmf("1#")
        await until(lambda: any(w == "msg" for w, _ in bob.events), 20, "DTMF at bob")
        await call.channel_invite_end()
        await until(lambda: any(w == "end_by_peer" for w, _ in bob.events), 20, "end at bob")
        assert await bob.session.query_user_status("alice") == 1
        say("call alice -> bob: invite, accept, DTMF, end; presence")
        bob.calls.clear()
        bob.events.clear()

        # 2. A tel: link opens the installed softphone, which logs in and dials.
        ini = await remember_login(args.profile_dir, server.url, args.windows_python)
        say(f"settings for {WIN_ACCOUNT}: {ini.name} with remembered login, start minimised")
        callee = Inbox(await server.login("+15551234"))
        assert await start_windows("tel:+15551234") == 0
        await until(lambda: callee.calls, 120, "call from the tel: link")
        incoming = callee.calls[0]
        assert incoming.peer == WIN_ACCOUNT, incoming
        assert "link on the command line: tel:+15551234" in log_file.read_text()
        say(f"`wine start tel:+15551234` -> sigphone.exe -> {WIN_ACCOUNT} calls +15551234")
        await incoming.channel_invite_accept()
        await incoming.channel_invite_end()

        # 3. Single instance: a second sigphone.exe hands its link to the first and exits.
        started = time.monotonic()
        code, out = await run_windows(app_exe, "sigphone:bob", within=60)
        took = time.monotonic() - started
        assert code == 0 and "already running" in out, (code, out)
        await until(lambda: bob.calls, 60, "call from the forwarded link")
        assert bob.calls[0].peer == WIN_ACCOUNT
        assert "forwarded from another launch: sigphone:bob" in log_file.read_text()
        say(f"second sigphone.exe sigphone:bob handed over and exited in {took:.1f} s; "
            f"the first instance called bob")  # fmt: skip
        await bob.calls[0].channel_invite_accept()
        await asyncio.sleep(3)  # the only fixed wait here: Wine paints the call view
        say(f"screenshot {grab(args.shots / 'windows-link-call.png')}")
        await bob.calls[0].channel_invite_end()

        # 4. --quit reaches the first instance, which logs out and exits.
        code, out = await run_windows(app_exe, "--quit", within=60)
        assert code == 0, (code, out)

        async def offline() -> None:
            while await bob.session.query_user_status(WIN_ACCOUNT) != 0:
                await asyncio.sleep(0.2)

        await asyncio.wait_for(offline(), 60)
        await until(lambda: "quitting" in log_file.read_text(), 30, "'quitting' in the log")
        code, out = await run_windows(app_exe, "--quit", within=60)
        assert code == 1 and "not running" in out, (code, out)
        say("sigphone.exe --quit: the first instance logged out and exited; nothing runs")

        for inbox in (alice, bob, callee):
            await inbox.session.logout()


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


SCREEN_WIDTH = 1280  # the Wine virtual desktop (windows-on-wine.sh)


def title_bar(index: int) -> tuple[str, str]:
    """A point on the title bar of phone ``index``, placed as sigphone.demo places it: side by
    side from (8, 30), each max(360, min(760, width / 2 - 16)) wide."""
    width = max(360, min(760, SCREEN_WIDTH // 2 - 16))
    return str(8 + index * (width + 16) + 150), "40"


async def demo(args: argparse.Namespace) -> None:
    """Driven through the app's own keyboard shortcuts (docs/ui.md: Ctrl+L number field,
    Ctrl+Shift+A answer, Ctrl+Q quit); the mouse only activates a window by its title bar."""
    log_file: Path = args.log
    before = log_file.read_text() if log_file.exists() else ""
    proc = await asyncio.create_subprocess_exec(
        *wine(args.app_dir + "\\sigphone.exe", "--demo"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    shown = "login window shown"
    try:
        await until(
            lambda: log_file.exists() and log_file.read_text().count(shown) > before.count(shown),
            120,
            "demo start-up",
        )
        await asyncio.sleep(4)  # both phones log in (loopback, well under a second), Wine paints
        say(f"screenshot {grab(args.shots / 'windows-demo.png')}")
        xdotool("mousemove", *title_bar(0), "click", "1")  # alice's window
        xdotool("key", "ctrl+l")
        xdotool("type", "--delay", "50", "bob")
        xdotool("key", "Return")
        await asyncio.sleep(4)
        say(f"screenshot {grab(args.shots / 'windows-call-ringing.png')}")
        xdotool("mousemove", *title_bar(1), "click", "1")  # bob's window
        xdotool("key", "ctrl+shift+a")
        await asyncio.sleep(5)  # the call connects and its first statistics arrive
        say(f"screenshot {grab(args.shots / 'windows-call.png')}")
        xdotool("key", "ctrl+q")  # Quit: logs both phones out, stops the embedded server
        code = await asyncio.wait_for(proc.wait(), 60)
        assert code == 0, f"sigphone.exe --demo exited with {code}"
        say("Ctrl+Q: the demo quit cleanly (exit status 0)")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["interop", "demo"])
    parser.add_argument("--app-dir", required=True, help="the installed app, a Windows path")
    parser.add_argument("--profile-dir", type=Path, help="%%LOCALAPPDATA%%\\Sigphone\\Sigphone")
    parser.add_argument("--log", type=Path, help="the app's log file (demo)")
    parser.add_argument("--windows-python", help="python.exe with sigphone (interop)")
    parser.add_argument("--shots", type=Path, required=True, help="where screenshots go")
    args = parser.parse_args()
    checks: dict[str, Callable[[argparse.Namespace], Any]] = {"interop": interop, "demo": demo}
    asyncio.run(checks[args.what](args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

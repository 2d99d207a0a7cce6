"""How a ``gnnviz`` process ends: its signal handlers, the error-to-exit-code mapping, stdout.

Exit codes (``errors.ExitCode``): 0 success, 1 runtime failure, 2 usage or config error (nothing
created), 130 after Ctrl-C, 143 after SIGTERM. Errors are one line on stderr; tracebacks only
with ``--debug`` or ``GNNVIZ_DEBUG=1``.

``run`` installs the command's handlers (SIGINT raises ``KeyboardInterrupt``, SIGTERM raises
``errors.Terminated``; library code holds them where a write must finish: ``gnnviz.signals``),
runs the command and, once it has returned or failed, only notes further signals while it prints
the error and flushes stdout.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import typer

from gnnviz import distributed, env
from gnnviz.cli import helptext, warned
from gnnviz.errors import ExitCode, GnnvizError, PeerLost, Terminated, is_out_of_memory, memory_message, os_error_message
from gnnviz.progress import to_stderr

_state = {"debug": env.flag("GNNVIZ_DEBUG")}


def _no_command(group) -> str:
    names = ", ".join(getattr(group, "commands", {}) or ())
    return f"no command given; choose one of {names}" if names else "no command given"


# The option a bare argument was meant for, per command: 'gnnviz train configs/x.yaml'.
ARGUMENT_MEANT = {"train": ("--config", "the config")}


def _argument_meant(what: str, sub: str | None) -> str:
    """Click's "unexpected extra argument" for a command that takes that value as an option, told
    how to write it."""
    extra = re.fullmatch(r"Got unexpected extra argument\(s\) \((.*)\)", what)
    if extra is None or sub not in ARGUMENT_MEANT:
        return what
    option, thing = ARGUMENT_MEANT[sub]
    value = extra.group(1)
    return f"unexpected argument '{value}'; {thing} goes after {option}: gnnviz {sub} {option} {value}"


def show_tracebacks() -> None:
    """``--debug``: unexpected errors print their traceback (as ``GNNVIZ_DEBUG=1`` does)."""
    _state["debug"] = True


def debugging() -> bool:
    return _state["debug"]


def _on_sigint(signum, frame):  # noqa: ARG001
    if os.getpid() != _state.get("pid"):
        # A forked child inherits this handler. gnnviz forks none since the drawing pool went,
        # but a library may (a data-loader worker): the child leaves Ctrl-C to its parent.
        return
    _state["interrupted"] = True
    raise KeyboardInterrupt


def _on_sigterm(signum, frame):  # noqa: ARG001
    if os.getpid() != _state.get("pid"):
        # A forked child (see _on_sigint) being stopped: it dies quietly, as by default.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _state["terminated"] = True
    raise Terminated()


def _unraisable(unraisable) -> None:
    """``sys.unraisablehook`` while a command runs: our own Ctrl-C or SIGTERM, raised by the handlers
    above where Python can only print it (a weakref callback, ``__del__``: importlib's module-lock
    callback, seen in the signal-timing test), is left unprinted: ``run`` ends with the signal's
    code from ``_state`` all the same. Anything else goes to the hook from before."""
    if isinstance(unraisable.exc_value, Terminated | KeyboardInterrupt) and (
        _state.get("terminated") or _state.get("interrupted")
    ):
        return
    _state["previous_unraisable"](unraisable)


def _on_late_signal(signum, frame):  # noqa: ARG001
    # After the command returned its result is final: a Ctrl-C or SIGTERM now is noted, never raised
    # into the few lines that print the error and flush stdout (a traceback there, with exit 0, was
    # what a signal in that window gave).
    _state["late_signal"] = signum


def _hold_signals() -> None:
    """From the command's return (or failure) until exit, our signal handlers note signals instead."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) in (_on_sigint, _on_sigterm):
            signal.signal(sig, _on_late_signal)


def _error(msg: str, kind: str = "error") -> None:
    """One error line on stderr. A rank under torchrun hands it to ``gnnviz train --nproc`` instead
    (which prints the one that caused the others); under plain torchrun rank 0 prints, and another
    rank only an error of its own (``kind`` "error"), named."""
    rank = os.environ.get("RANK", "0")
    if os.environ.get("WORLD_SIZE", "1") not in ("", "1"):
        if os.environ.get(distributed.LAUNCHED_ENV) and distributed.report_to_launcher(kind, msg):
            return
        if kind != "error":
            return
        if rank != "0":
            msg = f"rank {rank}: {msg}"
    to_stderr(f"error: {msg}")


def _stopped(kind: str) -> None:
    """A rank stopped by Ctrl-C or SIGTERM tells ``gnnviz train --nproc`` so (nothing is printed)."""
    if os.environ.get("WORLD_SIZE", "1") not in ("", "1") and os.environ.get(distributed.LAUNCHED_ENV):
        distributed.report_to_launcher(kind, kind)


def _traceback() -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exc()


def run(app: typer.Typer, argv: list[str] | None, *, held: set | None = None, process: bool = False) -> None:
    """Run ``app`` as this process, turning every failure into one line and an exit code.

    ``held``: the signal mask from before ``gnnviz.cli.main`` blocked SIGINT/SIGTERM for start-up;
    it is restored inside the command's ``try``, so a signal that came during start-up is raised by
    the handlers installed here and ends as 130/143. ``process``: this process is the command, and
    leaves by ``_leave`` (``os._exit`` with the signals blocked) so that the decided code stands.
    """
    _state["pid"] = os.getpid()
    _state.pop("interrupted", None)  # this command's own signals only
    if sys.unraisablehook is not _unraisable:
        _state["previous_unraisable"] = sys.unraisablehook
        sys.unraisablehook = _unraisable
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Not when started with Ctrl-C ignored; _on_late_signal is this function's own, from an earlier call.
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _on_late_signal):
        signal.signal(signal.SIGINT, _on_sigint)
    command = typer.main.get_command(app)
    warned.quiet_flag(command, _state)
    helptext.tidy(command)
    code = ExitCode.OK
    try:
        try:
            with warned.noted(debugging) as seen:  # libraries' warnings: one summary line at the end
                if held is not None:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal from start-up is raised here
                # Not standalone: Typer returns exit codes (130 for Ctrl-C) and raises usage errors to us.
                rv = command.main(args=argv, prog_name="gnnviz", standalone_mode=False)
        finally:
            _hold_signals()  # a signal before this line is caught below; after it, it is only noted
        code = rv if isinstance(rv, int) else ExitCode.OK
    except GnnvizError as exc:
        _traceback()
        _error(str(exc), "peer-lost" if isinstance(exc, PeerLost) else "error")
        code = exc.exit_code
    except Terminated:
        _stopped("terminated")
        code = ExitCode.TERMINATED
    except KeyboardInterrupt:
        _stopped("interrupted")
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        code = ExitCode.OK
    except OSError as exc:
        _traceback()
        _error(os_error_message(exc))
        code = ExitCode.FAILURE
    except MemoryError as exc:
        _traceback()
        _error(memory_message(exc))
        code = ExitCode.FAILURE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line unless --debug
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # Typer/Click usage errors (bad option, missing value): keep them on one line too.
            ctx = getattr(exc, "ctx", None)
            sub = f" {ctx.info_name}" if ctx is not None and ctx.parent is not None else ""
            # Click's "no arguments, so here is the help" error has no message of its own.
            what = exc.format_message().rstrip(".") or _no_command(ctx.command if ctx is not None else command)
            what = _argument_meant(what, ctx.info_name if sub else None)
            _error(f"{what}; see 'gnnviz{sub} --help'")
            code = exc.exit_code
        elif is_out_of_memory(exc):
            _traceback()
            _error(memory_message(exc))
            code = ExitCode.FAILURE
        elif _state.get("interrupted") or _state.get("terminated"):
            # Our own Ctrl-C or SIGTERM, surfaced as another error: a C extension whose import it
            # cut short reports "ImportError: initialization failed". The signal is the ending.
            _traceback()
            kind = "terminated" if _state.get("terminated") else "interrupted"
            _stopped(kind)
            code = ExitCode.TERMINATED if kind == "terminated" else ExitCode.INTERRUPTED
        else:
            _traceback()
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            _error(
                f"unexpected {type(exc).__name__}: {first}; rerun with --debug (or GNNVIZ_DEBUG=1) for the traceback and report it"
            )
            code = ExitCode.FAILURE
    if _state.get("terminated"):
        code = ExitCode.TERMINATED
    note = warned.summary(seen)
    if note is not None and code == ExitCode.OK and not _state["quiet"]:
        to_stderr(note)
    failed = _close_stdout()
    if failed is not None and code == ExitCode.OK:
        _error(failed)
        code = ExitCode.FAILURE
    if process:
        _leave(code)
    sys.exit(code)


def _leave(code: int) -> None:
    """End this process with ``code``, whatever arrives now.

    Python's own shutdown (atexit, module teardown) resets the signal handlers to the defaults, so a
    Ctrl-C or SIGTERM arriving in it killed the process by the signal (exit -2/-15) after the command
    had finished. Here the signals are blocked, the streams flushed, and ``os._exit`` leaves at once:
    the command has closed everything it opened (writes are atomic and finished, ranks joined).
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(int(code))


def print_path(path: Path) -> None:
    """The result path as the last stdout line, byte for byte as on disk (any locale, any bytes)."""
    data = os.fsencode(str(path)) + b"\n"
    out = sys.stdout
    if out is None:
        return  # started with stdout closed: nothing can take it
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(os.fsdecode(data))
        return
    try:
        out.flush()
        buffer.write(data)
    except BrokenPipeError:
        raise
    except OSError as exc:
        exc.filename = exc.filename or "standard output"
        raise GnnvizError(os_error_message(exc, "cannot write") + f" (the result is {path})") from None


def _close_stdout() -> str | None:
    """Flush stdout; return an error line if it could not take the output (a full disk, /dev/full).

    Output piped into `head` closes early: that is not an error, and the interpreter's own
    complaint at exit is silenced by pointing stdout at /dev/null.
    """
    if sys.stdout is None:
        return None
    problem = None
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        exc.filename = exc.filename or "standard output"
        problem = os_error_message(exc, "cannot write")
    except ValueError:  # closed by the caller
        return None
    if problem is not None or _stdout_broken():
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return problem


def _stdout_broken() -> bool:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        return True
    return False

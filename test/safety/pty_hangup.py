"""Run a command on a pseudo-terminal that is its controlling terminal, and hang it up, for the safety tests.

    python3 pty_hangup.py COMMAND [ARG...]

The command's stdin is the slave side of a new pty, which is also its session's controlling terminal, so
closing the master delivers SIGHUP and makes reads fail, as an SSH connection that drops does. stdout and
stderr stay this script's own (pipes to the test). Bytes written to this script's stdin are typed into
the terminal; when this script's stdin ends, the master is closed: the terminal hangs up.

It exits with the command's exit code, or 200 + n when the command was killed by signal n (a crash such
as SIGABRT or SIGSEGV, or death by the hang-up itself), so that a test can tell an exit 129 from a death.
"""
import fcntl
import os
import select
import subprocess
import sys
import termios


def main() -> int:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pty_hangup.py COMMAND [ARG...]\n")
        return 64
    master, slave = os.openpty()

    def controlling_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(sys.argv[1:], stdin=slave, start_new_session=True, preexec_fn=controlling_terminal)
    os.close(slave)
    readers = [sys.stdin.fileno(), master]
    open_master = True
    while child.poll() is None:
        ready, _, _ = select.select(readers, [], [], 0.05)
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if fd == master:
                if not data:
                    readers.remove(master)
                continue
            if data:
                os.write(master, data)
                continue
            readers.remove(fd)
            if open_master:
                open_master = False
                if master in readers:
                    readers.remove(master)
                os.close(master)
    code = child.wait()
    return code if code >= 0 else 200 - code


if __name__ == "__main__":
    sys.exit(main())

"""Run a command with a pseudo-terminal as its standard input, for the safety tests.

    python3 pty_bridge.py COMMAND [ARG...]

The command's stdin is the slave side of a new pty, so it sees a terminal (isatty) and can prompt; its
stdout and stderr are this script's own (pipes to the test), so the test still reads them separately.
Bytes written to this script's stdin are typed into the terminal. It exits with the command's exit code
(128 + n when the command was killed by signal n).
"""
import os
import select
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pty_bridge.py COMMAND [ARG...]\n")
        return 64
    master, slave = os.openpty()
    child = subprocess.Popen(sys.argv[1:], stdin=slave, start_new_session=True)
    os.close(slave)
    readers = [sys.stdin.fileno(), master]
    while child.poll() is None:
        ready, _, _ = select.select(readers, [], [], 0.05)
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if fd == master:
                # Drain the terminal's output side (echo); nothing is written to it otherwise.
                if not data:
                    readers.remove(master)
                continue
            if not data:
                readers.remove(fd)
            else:
                os.write(master, data)
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())

"""A subprocess whose output lines arrive in a queue, for the kill tests."""

import os
import queue
import signal
import subprocess
import threading
import time


class LineProcess:
    """Start `argv`; its stdout and stderr lines arrive in `lines`."""

    def __init__(self, argv, env=None, cwd=None):
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, wanted, count=1, timeout=300):
        """Wait for the `count`-th line starting with `wanted`; False if the
        process ended first."""
        deadline = time.time() + timeout
        while True:
            line = self.lines.get(timeout=max(1, deadline - time.time()))
            if line is None:
                return False
            if line.startswith(wanted):
                count -= 1
                if count == 0:
                    return True

    def kill(self):
        """SIGKILL (if still running); the exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        return self.process.returncode

    def finish(self, tail=None):
        """Wait for the end; the exit code and the output (its last `tail`
        characters, if given)."""
        self.process.wait(timeout=600)
        time.sleep(0.2)  # let the reader thread take the last lines
        output = "".join(self.output)
        return self.process.returncode, output[-tail:] if tail else output

"""The worker list of a multi-process run: `HOST0:PORT0,HOST1:PORT1`."""

import socket

# How long the survivors of a lost process wait for it before they stop
# (`data_parallel(peer_timeout=...)`, `pretrain --peer-timeout`):
# TensorFlow's collective timeout, JAX's heartbeat timeout (JAX's own
# default is 100 s).
PEER_TIMEOUT_SECONDS = 60


def parse_workers(workers):
    """`"HOST0:PORT0,HOST1:PORT1"` (or a list) -> `["HOST0:PORT0", ...]`.

    Raises `ValueError` naming an address that is not `HOST:PORT`, or one
    given twice.
    """
    given = workers
    if isinstance(workers, str):
        workers = workers.split(",")
    parsed = [w.strip() for w in workers]
    for w in parsed:
        host, _, port = w.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{w!r} in {given!r} is not HOST:PORT")
    if len(set(parsed)) != len(parsed):
        raise ValueError(f"the workers {parsed} repeat an address")
    return parsed


def loopback_workers(count):
    """`"127.0.0.1:P0,127.0.0.1:P1,..."`: `count` ports free right now, for
    a multi-process run on one machine (the tests, the benchmarks)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ",".join(f"127.0.0.1:{p}" for p in ports)

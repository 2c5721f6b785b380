"""`loopback_workers`: free local addresses for a multi-process run."""

import socket

from keras_electra.utils.worker_addresses import loopback_workers
from keras_electra.utils.worker_addresses import parse_workers


def test_loopback_workers_are_free_distinct_addresses():
    workers = parse_workers(loopback_workers(3))
    assert len(workers) == 3
    for address in workers:
        host, _, port = address.rpartition(":")
        assert host == "127.0.0.1"
        with socket.socket() as s:  # nobody holds it: it binds
            s.bind((host, int(port)))

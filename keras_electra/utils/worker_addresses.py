"""The worker list of a multi-process run: `HOST0:PORT0,HOST1:PORT1`."""


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

"""`keras_electra.utils.hugepages`: when the command may switch on glibc's
huge pages for `malloc`, and how it writes `GLIBC_TUNABLES`."""

import platform

import pytest

from keras_electra.utils import hugepages

LINUX = platform.system() == "Linux"
SUPPORTED = {"glibc": (2, 36), "mode": "madvise"}


@pytest.mark.skipif(not LINUX, reason="the tunable is glibc's, on Linux")
def test_supported_machine_gets_the_tunable_added():
    env = hugepages.environment_with_hugepages({"PATH": "/bin"}, **SUPPORTED)
    assert env == {"PATH": "/bin", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
    env = hugepages.environment_with_hugepages(
        {"GLIBC_TUNABLES": "glibc.malloc.check=0"}, **SUPPORTED
    )
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.check=0:glibc.malloc.hugetlb=1"


@pytest.mark.skipif(not LINUX, reason="the tunable is glibc's, on Linux")
def test_nothing_to_do_when_set_unsupported_or_refused():
    set_already = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}
    assert hugepages.environment_with_hugepages(set_already, **SUPPORTED) is None
    for machine, reason in [
        ({"glibc": (2, 34), "mode": "madvise"}, "needs glibc 2.35 or newer"),
        ({"glibc": (2, 36), "mode": "never"}, "transparent huge pages are never"),
    ]:
        assert hugepages.unavailable_reason({}, **machine) == reason
        assert hugepages.environment_with_hugepages({}, **machine) is None
    refused = {hugepages.OPT_OUT: "0"}
    assert hugepages.unavailable_reason(refused, **SUPPORTED) == (
        "KERAS_ELECTRA_HUGEPAGES=0"
    )
    assert hugepages.environment_with_hugepages(refused, **SUPPORTED) is None


def test_thp_mode_reads_the_bracketed_choice(tmp_path):
    path = tmp_path / "enabled"
    path.write_text("always [madvise] never\n")
    assert hugepages.thp_mode(str(path)) == "madvise"
    assert hugepages.thp_mode(str(tmp_path / "missing")) is None


def test_status_line():
    assert hugepages.status({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}) == (
        "on (glibc.malloc.hugetlb=1)"
    )
    assert hugepages.status({hugepages.OPT_OUT: "off"}) == (
        "off (KERAS_ELECTRA_HUGEPAGES=off)"
    )
    # A user's own setting is kept, and reported as it is.
    own = {"GLIBC_TUNABLES": "glibc.malloc.check=0:glibc.malloc.hugetlb=0"}
    assert hugepages.status(own) == "off (GLIBC_TUNABLES sets glibc.malloc.hugetlb=0)"

import pyarrow as pa
import pytest

from ingest.privacy import apply_client_key

IPS = ["203.0.113.77", "2001:db8:abcd:12::1", "[2001:db8::1]:443", "1.2.3.4:5678", None, "junk"]


def table():
    return pa.table({"client_key": pa.array(IPS, pa.string())})


def test_truncate_is_the_default_policy_shape():
    out = apply_client_key(table(), "truncate").column("client_key").to_pylist()
    assert out == ["203.0.113.0", "2001:db8:abcd::", "2001:db8::", "1.2.3.0", None, None]


def test_hash_is_keyed_stable_and_not_the_ip():
    a = apply_client_key(table(), "hash", "k1").column("client_key").to_pylist()
    b = apply_client_key(table(), "hash", "k1").column("client_key").to_pylist()
    c = apply_client_key(table(), "hash", "k2").column("client_key").to_pylist()
    assert a == b
    assert a[0] != c[0]
    assert all(v is None or (len(v) == 16 and "." not in v) for v in a)
    assert a[4] is None


def test_hash_without_key_is_refused():
    with pytest.raises(ValueError, match="client_ip_hash_key"):
        apply_client_key(table(), "hash", None)


def test_raw_only_on_opt_in():
    assert apply_client_key(table(), "raw").column("client_key").to_pylist() == IPS

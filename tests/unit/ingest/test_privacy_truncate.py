import polars as pl
import pyarrow as pa
import pytest

from ingest.privacy import apply_client_key, truncate_ip

pytestmark = pytest.mark.unit

VALUES = [
    "203.0.113.77", "1.2.3.4:5678", " 10.0.0.1 ", "10.0.0.1\t", "[1.2.3.4]:80", "1.2.3.4:",
    "1.2.3", "1234.2.3.4", "2001:DB8:abcd:12::1", "[2001:db8::1]:443", "::1", "junk", "", None,
    "\u0661.2.3.4",
]  # fmt: skip


def test_fast_path_gives_truncate_ips_answer():
    expected = pl.DataFrame({"ip": VALUES}).select(truncate_ip(pl.col("ip")))["ip"].to_list()
    table = pa.table({"client_key": pa.array(VALUES, pa.string())})
    assert apply_client_key(table, "truncate").column("client_key").to_pylist() == expected

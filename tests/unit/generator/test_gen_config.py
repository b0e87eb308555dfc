"""GeneratorConfig validation and the CDN roles that carry planted problems."""

from __future__ import annotations

import pytest

from cdn_offload.generator.config import GeneratorConfig

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"cdns": ("cloudfront", "limelight")}, "unsupported CDN", id="unknown-cdn"),
        pytest.param({"cdns": ("fastly", "fastly")}, "must not repeat", id="repeated-cdn"),
        pytest.param({"cdns": ()}, "at least one CDN", id="no-cdn"),
        pytest.param({"start": "yesterday"}, "ISO 8601", id="bad-start"),
        pytest.param({"duration_min": 0.5}, "duration_min", id="too-short"),
        pytest.param({"rows": -1}, "rows", id="negative-rows"),
        pytest.param({"compresslevel": 11}, "compresslevel", id="bad-level"),
    ],
)
def test_invalid_config_is_rejected_with_the_setting_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GeneratorConfig(rows=kwargs.pop("rows", 10), **kwargs)


@pytest.mark.parametrize(
    ("cdns", "outlier", "midmatch"),
    [
        pytest.param(
            ("cloudfront", "fastly", "akamai", "cloudflare"), "fastly", "cloudflare", id="default"
        ),
        pytest.param(("cloudfront", "akamai"), "akamai", "cloudfront", id="two-without-defaults"),
        pytest.param(("akamai",), None, "akamai", id="single-cdn-has-no-outlier"),
    ],
)
def test_roles_pick_distinct_cdns(
    cdns: tuple[str, ...], outlier: str | None, midmatch: str
) -> None:
    roles = GeneratorConfig(rows=1, cdns=cdns).roles()
    assert roles == {"outlier": outlier, "midmatch": midmatch}


def test_start_accepts_z_and_offsets() -> None:
    assert GeneratorConfig(rows=1, start="2025-03-09T08:30:00Z").start_ms == 1741509000000
    assert GeneratorConfig(rows=1, start="2025-03-09T14:00:00+05:30").start_ms == 1741509000000

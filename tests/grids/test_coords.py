"""Coordinate conversions against reference values from the eviltransform and prcoords packages."""

import numpy as np
import pytest

from grids import coords

# (lon, lat) WGS-84 → GCJ-02, from prcoords.wgs_gcj and eviltransform.wgs2gcj (they agree to 1e-7).
WGS = (120.62, 31.30)
GCJ = (120.62417711, 31.29782286)
BD_FROM_WGS = (120.63063117, 31.30392688)


def test_wgs84_to_gcj02_matches_reference():
    lon, lat = coords.wgs84_to_gcj02(*WGS)
    assert lon == pytest.approx(GCJ[0], abs=2e-7) and lat == pytest.approx(GCJ[1], abs=2e-7)


def test_gcj02_to_wgs84_inverts_to_a_millimetre():
    lon, lat = coords.gcj02_to_wgs84(*GCJ)
    assert lon == pytest.approx(WGS[0], abs=1e-7) and lat == pytest.approx(WGS[1], abs=1e-7)


def test_bd09_round_trip_and_reference():
    lon, lat = coords.from_wgs84(*WGS, "bd09")
    assert lon == pytest.approx(BD_FROM_WGS[0], abs=2e-6) and lat == pytest.approx(BD_FROM_WGS[1], abs=2e-6)
    back = coords.to_wgs84(lon, lat, "bd09")
    assert back[0] == pytest.approx(WGS[0], abs=1e-6) and back[1] == pytest.approx(WGS[1], abs=1e-6)


def test_vectorised_and_outside_china_unchanged():
    lon = np.array([120.62, 2.35, 120.60])
    lat = np.array([31.30, 48.85, 31.32])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert glon[1] == 2.35 and glat[1] == 48.85  # Paris: no offset
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon, lon, atol=1e-7) and np.allclose(wlat, lat, atol=1e-7)


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown coordinate system"):
        coords.to_wgs84(120.0, 31.0, "utm50")

"""Conversions between WGS-84 (GPS, 天地图, what the database stores), GCJ-02 (国测局, used by 高德 and
腾讯 maps and by most Chinese data sources) and BD-09 (百度).

GCJ-02 is WGS-84 plus a published, deterministic obfuscation of up to ~700 m; it has no closed-form
inverse, so gcj02_to_wgs84 iterates the forward transform until it moves less than 1e-9° (about
0.1 mm). Outside mainland China both systems coincide and no offset is applied. The functions take
scalars or NumPy arrays, so importing or converting a million points is one vectorised call.

Reference values in tests/grids/test_coords.py were cross-checked against the eviltransform and
prcoords packages.
"""

from __future__ import annotations

import numpy as np

CRS_NAMES = ("wgs84", "gcj02", "bd09")
_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm defines it
_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0


def to_wgs84(lon, lat, crs: str):
    """Convert from `crs` ('wgs84', 'gcj02' or 'bd09') to WGS-84."""
    crs = crs.lower().replace("-", "").replace("_", "")
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_NAMES)}")


def from_wgs84(lon, lat, crs: str):
    """Convert WGS-84 to `crs` (for maps whose tiles are GCJ-02 or BD-09)."""
    crs = crs.lower().replace("-", "").replace("_", "")
    if crs == "wgs84":
        return lon, lat
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    raise ValueError(f"unknown coordinate system {crs!r}; use one of {', '.join(CRS_NAMES)}")


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    inside = in_china(lon, lat)
    return _out(np.where(inside, lon + dlon, lon)), _out(np.where(inside, lat + dlat, lat))


def gcj02_to_wgs84(lon, lat, tolerance: float = 1e-9, max_iter: int = 30):
    gl, gt = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wl, wt = gl.copy(), gt.copy()
    for _ in range(max_iter):
        fl, ft = wgs84_to_gcj02(wl, wt)
        el, et = np.asarray(fl) - gl, np.asarray(ft) - gt
        wl, wt = wl - el, wt - et
        if np.all(np.abs(el) < tolerance) and np.all(np.abs(et) < tolerance):
            break
    return _out(wl), _out(wt)


def gcj02_to_bd09(lon, lat):
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return _out(z * np.cos(theta) + 0.0065), _out(z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon, lat):
    x, y = np.asarray(lon, dtype=float) - 0.0065, np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _out(z * np.cos(theta)), _out(z * np.sin(theta))


def in_china(lon, lat):
    """The rough mainland bounding box the GCJ-02 algorithm applies to (as in the reference code)."""
    lon, lat = np.asarray(lon), np.asarray(lat)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _out(a):
    """Scalars in, scalars out; arrays in, arrays out."""
    a = np.asarray(a)
    return float(a) if a.ndim == 0 else a

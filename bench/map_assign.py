"""Assigning 1,000,000 points to 10,000 grid polygons with the spatial index (grids.location.GridIndex).

    .venv/bin/python -m bench.map_assign [--points 1000000] [--grids 10000] [--sample 2000]

Grids are Voronoi cells of random seeds over 姑苏区's extent (irregular polygons, like real 网格), so
the STRtree's bounding boxes overlap as they would in practice. Baseline, in the same run: testing each
point against every polygon (vectorised shapely.contains per point) on a sample, extrapolated to all
points; the sample's answers must equal the index's.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import shapely

from grids.location import GridIndex

WEST, SOUTH, EAST, NORTH = 120.55, 31.25, 120.70, 31.37


def voronoi_grids(n: int, rng: np.random.Generator) -> np.ndarray:
    seeds = shapely.multipoints(np.column_stack([rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n)]))
    frame = shapely.box(WEST, SOUTH, EAST, NORTH)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    return shapely.intersection(cells, frame)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--grids", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=2_000)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(42)
    polygons = voronoi_grids(a.grids, rng)
    lon, lat = rng.uniform(WEST, EAST, a.points), rng.uniform(SOUTH, NORTH, a.points)
    ids = np.arange(1, len(polygons) + 1)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        "(other work on the machine slows every figure)"
    )
    print(
        f"{a.points:,} points, {len(polygons):,} Voronoi grid polygons "
        f"(mean {shapely.get_num_coordinates(polygons).mean():.1f} vertices)"
    )

    t = time.perf_counter()
    index = GridIndex.from_polygons(ids, [str(i) for i in ids], polygons)
    build = time.perf_counter() - t
    t = time.perf_counter()
    assigned = index.assign(lon, lat)
    run = time.perf_counter() - t
    outside = int((assigned < 0).sum())
    print(
        f"spatial index (STRtree): build {build:.2f} s, assign {run:.2f} s, total {build + run:.2f} s "
        f"= {a.points / (build + run):,.0f} points/s; {outside} points outside every grid"
    )

    # The same STRtree asked with predicate="intersects" (prepared polygons do the work instead of the
    # points; differs from "within" only for points exactly on an edge) — a suggestion for grids/location.py.
    t = time.perf_counter()
    pi, _ = index.tree.query(shapely.points(lon, lat), predicate="intersects")
    variant = time.perf_counter() - t
    print(
        f"variant predicate='intersects': {variant:.2f} s ({run / variant:.2f}x the 'within' query); "
        f"{np.unique(pi).size:,} points matched"
    )

    k = min(a.sample, a.points)
    t = time.perf_counter()
    brute = np.full(k, -1, dtype=np.int64)
    for i in range(k):
        hit = np.flatnonzero(shapely.contains(polygons, shapely.Point(lon[i], lat[i])))
        if hit.size:
            brute[i] = ids[hit[0]]
    per_point = (time.perf_counter() - t) / k
    baseline = per_point * a.points
    agree = (brute == assigned[:k]) | ((brute < 0) & (assigned[:k] < 0))
    print(
        f"baseline (every polygon per point): {per_point * 1000:.2f} ms/point on {k:,} points, "
        f"extrapolated {baseline:,.0f} s for all; answers agree on {agree.mean():.2%} of the sample"
    )
    print(f"speed-up: {baseline / (build + run):,.0f}x; target < 10 s: {'met' if build + run < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()

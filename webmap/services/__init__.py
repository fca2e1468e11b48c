"""Service functions behind the views: plain arguments in (session, zone, filters), dataclasses and
dicts out. Nothing here imports Flask, so the same functions serve the web app, exports and benchmarks.

`zone` is always the set of leaf grid ids the caller may see, or None for the whole district.
"""

"""The Detector: one post in, labels, scores, reasons and location out.

Build it once (the keyword automaton, registry and gazetteer are built up front) and call classify for
every post; it holds no per-post state, so one Detector serves many threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from detection import publication, speech_act, travel
from detection.gazetteer import Gazetteer, place_from_dict, places_from_records
from detection.keywords import DEFAULT_LIBRARY, Matcher, load_library
from detection.registry import Registry
from detection.signals import collect

LABELS = ("unlicensed_travel", "illegal_publication")
DEFAULT_THRESHOLDS = {"unlicensed_travel": 0.5, "illegal_publication": 0.5}
# Very long posts are cut here: the evidence is in the first pages, and a runaway page must not stall a crawl.
DEFAULT_MAX_CHARS = 50_000

_cache: dict[tuple, Detector] = {}
_cache_lock = threading.Lock()


class Detector:
    def __init__(
        self,
        registry: Registry,
        gazetteer: Gazetteer,
        library_path: Path | str = DEFAULT_LIBRARY,
        thresholds: dict[str, float] | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ):
        self.library = load_library(library_path)
        self.matcher = Matcher(self.library)
        self.registry = registry
        self.gazetteer = gazetteer
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
        self.max_chars = max_chars

    @classmethod
    def from_records(cls, agencies: list[dict], gazetteer_places: list[dict] | None = None, **options) -> Detector:
        """A detector over an agency list (dicts with name, licence_no or license_no, address, lon, lat)
        and optional gazetteer places (dicts with name, level, lon, lat, grid_code, grid_id, aliases)."""
        places = [place_from_dict(p) for p in gazetteer_places or []]
        if not gazetteer_places:
            places = places_from_records([], [], agencies)
        return cls(Registry(agencies), Gazetteer(places), **options)

    @classmethod
    def from_config(cls, cfg, agencies: list[dict] | None = None) -> Detector:
        """The detector for this deployment: registry and gazetteer from the database (or `agencies`
        replacing the registry), thresholds and library from [detect]. Cached until the tables change."""
        from detection import snapshot as reference_data

        snapshot = reference_data.load_snapshot(cfg)
        options = options_from_config(cfg)
        key = (cfg.database_url, snapshot.fingerprint, repr(options), id(agencies) if agencies is not None else None)
        with _cache_lock:
            detector = _cache.get(key)
            if detector is None:
                registry_rows = agencies if agencies is not None else snapshot.agencies
                places = places_from_records(snapshot.grids, snapshot.venues, registry_rows)
                detector = cls(Registry(registry_rows), Gazetteer(places), **options)
                if agencies is None:
                    _cache.clear()
                    _cache[key] = detector
        return detector

    def classify(self, post: dict) -> dict:
        """{"labels", "scores", "reasons", "location"} for one post (see README.md for the format)."""
        post = self._trimmed(post)
        signals = collect(post, self.matcher)
        signals.act = speech_act.read(signals)
        scores = {
            "unlicensed_travel": travel.score(signals, self.registry, self.library),
            "illegal_publication": publication.score(signals, self.library),
        }
        scores = {label: round(max(0.0, min(1.0, value)), 4) for label, value in scores.items()}
        labels = [label for label in LABELS if scores[label] >= self.thresholds[label]]
        reasons = [r.as_dict() for r in signals.reasons if r.label in labels or not labels]
        return {"labels": labels, "scores": scores, "reasons": reasons, "location": self.locate(post)}

    def locate(self, post: dict) -> dict:
        texts = [post.get("title"), post.get("text"), post.get("seller_location"), post.get("source_name")]
        return self.gazetteer.locate([t for t in texts if isinstance(t, str)])

    def _trimmed(self, post: dict) -> dict:
        if not isinstance(post, dict):
            raise TypeError("classify takes a dict with title and text")
        out = dict(post)
        for key in ("title", "text"):
            value = out.get(key)
            if isinstance(value, str) and len(value) > self.max_chars:
                out[key] = value[: self.max_chars]
        return out


def options_from_config(cfg) -> dict:
    section = cfg.detect
    library = str(section.keyword_library).strip()
    return {
        "library_path": cfg.resolve(library) if library else DEFAULT_LIBRARY,
        "thresholds": {
            "unlicensed_travel": float(section.threshold_unlicensed_travel),
            "illegal_publication": float(section.threshold_illegal_publication),
        },
        "max_chars": int(section.max_text_chars),
    }

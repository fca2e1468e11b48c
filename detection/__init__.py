"""Detection of unlicensed travel agencies and illegal publications in crawled posts.

    from detection import Detector
    detector = Detector.from_config(cfg)          # registry and gazetteer from the database
    result = detector.classify({"title": …, "text": …, "source_name": …})

See README.md in this directory for the output format and the keyword library.
"""

from detection.detector import LABELS, Detector

__all__ = ["Detector", "LABELS"]

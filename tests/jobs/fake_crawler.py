"""A stand-in for `python -m crawlers SOURCE` in scheduler tests: the source name picks the behaviour."""

import json
import sys
import time

SUMMARY = {"pages": 7, "hits": 2, "state": "finished", "errors": 0}


def main(source: str) -> int:
    if source == "broken":
        print("Traceback: spider exploded", file=sys.stderr)
        return 2
    if source == "hang":
        print("CRAWL-PROGRESS started", flush=True)
        time.sleep(600)  # killed by the task's timeout long before this ends
        return 0
    if source == "captcha":
        print("CRAWL-SUMMARY " + json.dumps({**SUMMARY, "pages": 3, "hits": 0, "state": "captcha"}))
        return 3
    print("crawling", source)
    print("CRAWL-SUMMARY " + json.dumps({**SUMMARY, "source": source}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""The WARC file of an export: warcinfo, request, response (original headers and body), resource
records for the screenshot and the extracted text, and a metadata record with the hashes.

warcio computes block digests (SHA-1, its only algorithm); payload digests are given as SHA-256 so
they can be compared with the manifest and the chain record directly.
"""

from __future__ import annotations

import base64
import hashlib
import http
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence.chain import utc_iso
from evidence.fetch import header_pairs

# Headers that describe the bytes on the wire, not the decoded body the crawler kept: a WARC reader
# would try to undo them again. They are renamed in the WARC; headers.json keeps them verbatim.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding"}
_RENAMED_PREFIX = "X-Wangxun-Decoded-"
# Scrapy and browsers name protocols by their ALPN ids; HTTP status lines spell them out.
_PROTOCOL_NAMES = {"h2": "HTTP/2", "h3": "HTTP/3", "http/1.1": "HTTP/1.1", "http/1.0": "HTTP/1.0"}


def write_warc(path: Path, bundle, software: str) -> list[dict[str, Any]]:
    """Write the bundle's WARC to `path` (gzip per record); returns one descriptor per record."""
    meta = bundle.headers
    date = utc_iso(bundle.evidence.fetched_at_utc)
    written: list[dict[str, Any]] = []
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        info = {
            "software": software,
            "format": "WARC File Format 1.1",
            "description": f"网巡 evidence record seq {bundle.evidence.seq}, hit {bundle.hit.id}",
        }
        _write(writer, written, writer.create_warcinfo_record(path.name, info), None)
        request = _request_record(writer, bundle, meta, date)
        _write(writer, written, request, b"")
        response = _response_record(writer, bundle, meta, date)
        _write(writer, written, response, bundle.body)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        for uri, payload, ctype in _resources(bundle):
            rec = _record(writer, uri, "resource", payload, ctype, date, concurrent_to=response_id)
            _write(writer, written, rec, payload)
        hashes = json.dumps(bundle.hash_summary(), ensure_ascii=False, indent=2).encode("utf-8")
        rec = _record(
            writer, bundle.evidence.final_url, "metadata", hashes, "application/json", date, concurrent_to=response_id
        )
        _write(writer, written, rec, hashes)
    return written


def _request_record(writer: WARCWriter, bundle, meta: dict, date: str):
    parts = urlsplit(bundle.evidence.final_url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    protocol = _protocol(meta)
    http_headers = StatusAndHeaders(
        f"{meta.get('method', 'GET')} {target} {protocol}",
        header_pairs(meta.get("request_headers") or {}),
        protocol=protocol,
        is_http_request=True,
    )
    return _record(writer, bundle.evidence.final_url, "request", b"", None, date, http_headers=http_headers)


def _response_record(writer: WARCWriter, bundle, meta: dict, date: str):
    status = int(meta.get("status", bundle.evidence.status))
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    headers = _describe_decoded_body(header_pairs(meta.get("response_headers") or {}), len(bundle.body))
    http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol=_protocol(meta))
    return _record(writer, bundle.evidence.final_url, "response", bundle.body, None, date, http_headers=http_headers)


def _describe_decoded_body(headers: list[tuple[str, str]], body_size: int) -> list[tuple[str, str]]:
    """Rename the wire-encoding headers, and a Content-Length that does not fit the kept body."""
    out = []
    for name, value in headers:
        lower = name.lower()
        stale_length = lower == "content-length" and value.strip() != str(body_size)
        out.append((_RENAMED_PREFIX + name, value) if lower in _WIRE_HEADERS or stale_length else (name, value))
    return out


def _protocol(meta: dict) -> str:
    protocol = str(meta.get("protocol") or "HTTP/1.1")
    return _PROTOCOL_NAMES.get(protocol.lower(), protocol)


def _resources(bundle) -> list[tuple[str, bytes, str]]:
    url = bundle.evidence.final_url
    items = [(f"urn:wangxun:text:{url}", bundle.text, "text/plain; charset=utf-8")]
    if bundle.screenshot is not None:
        items.insert(0, (f"urn:wangxun:screenshot:{url}", bundle.screenshot, "image/png"))
    return items


def _record(
    writer: WARCWriter,
    uri: str,
    rec_type: str,
    payload: bytes,
    content_type: str | None,
    date: str,
    http_headers=None,
    concurrent_to: str | None = None,
):
    headers = {"WARC-Date": date, "WARC-Payload-Digest": sha256_digest_label(payload)}
    if concurrent_to:
        headers["WARC-Concurrent-To"] = concurrent_to
    return writer.create_warc_record(
        uri,
        rec_type,
        payload=io.BytesIO(payload),
        length=None,
        warc_content_type=content_type or "",
        warc_headers_dict=headers,
        http_headers=http_headers,
    )


def _write(writer: WARCWriter, written: list, record, payload: bytes | None) -> None:
    writer.write_record(record)
    written.append(
        {
            "type": record.rec_type,
            "target_uri": record.rec_headers.get_header("WARC-Target-URI"),
            "record_id": record.rec_headers.get_header("WARC-Record-ID"),
            "payload_sha256": None if payload is None else hashlib.sha256(payload).hexdigest(),
            "payload_size": None if payload is None else len(payload),
        }
    )


def sha256_digest_label(payload: bytes) -> str:
    """The WARC convention: algorithm, colon, base32 of the digest."""
    return "sha256:" + base64.b32encode(hashlib.sha256(payload).digest()).decode("ascii")

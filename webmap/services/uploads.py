"""What an uploaded file is, judged by its bytes, never by its name or the browser's Content-Type.

Clue photos must be JPEG, PNG, WebP or GIF: a page, an SVG or a script named "现场.jpg" is refused, and
a real photo with the wrong extension is stored under the right one. When a photo is served, its type
again comes from its bytes (application/octet-stream for anything else, such as files stored before
this check), always as a download with nosniff, so nothing uploaded can run on the app's origin.

Why signatures and not Pillow: the server never decodes a photo, it stores and returns the bytes with
their SHA-256 (they are evidence and must stay as taken). Pillow is not a dependency of the project;
adding a C image decoder only to open untrusted files would add attack surface without making the
download safer. What a browser could be tricked into running is excluded by the signature check, the
attachment disposition and nosniff together.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import UserError
from core.i18n import N_, Msg

# kind -> (MIME type, canonical extension, accepted extensions)
IMAGE_TYPES = {
    "jpeg": ("image/jpeg", ".jpg", (".jpg", ".jpeg")),
    "png": ("image/png", ".png", (".png",)),
    "gif": ("image/gif", ".gif", (".gif",)),
    "webp": ("image/webp", ".webp", (".webp",)),
}
SNIFF_BYTES = 16


def image_kind(head: bytes) -> str | None:
    """The kind ("jpeg", "png", "gif", "webp") from the signature each format's specification puts at
    the start of a file (SNIFF_BYTES are enough), else None. None of them can begin a page, a script or
    an SVG."""
    if head[:3] == b"\xff\xd8\xff":  # JPEG: start of image, then the first marker
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def checked_photo(filename: str, data: bytes) -> tuple[str, bytes]:
    """(filename, data) of an accepted photo, its extension matching what it is; UserError otherwise."""
    name = Path(filename or "photo").name
    kind = image_kind(data[:SNIFF_BYTES])
    if kind is None:
        raise UserError(Msg(N_("%(name)s：不是 JPEG、PNG、WebP 或 GIF 图片（按文件内容判断），未保存"), name=name))
    _mime, canonical, accepted = IMAGE_TYPES[kind]
    path = Path(name)
    if path.suffix.lower() not in accepted:
        name = (path.stem or "photo") + canonical
    return name, data


def stored_mimetype(path: Path) -> str:
    """The type to serve a stored upload with: an image type its bytes prove, else octet-stream."""
    with open(path, "rb") as f:
        kind = image_kind(f.read(SNIFF_BYTES))
    return IMAGE_TYPES[kind][0] if kind else "application/octet-stream"

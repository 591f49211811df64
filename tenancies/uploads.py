"""Uploaded files: type checked by content, size-limited, images re-encoded without EXIF, stored
under generated names in the private media root, served only through permission-checked views.

    kind = check_upload(f, kinds=("pdf", "jpeg", "png"), max_bytes=5 * MB)   # ValidationError (fr)
    content = clean_image(f)                 # ContentFile: JPEG, EXIF stripped, at most 2000 px
    model.file.save(generated_name("photos", "jpg"), content)
    return file_response(model.file, filename="photo.jpg", inline=True)    # in the view

UploadField(kinds=..., max_bytes=...) is the form field doing check_upload in clean().
"""

from __future__ import annotations

import io
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

MB = 1024 * 1024

# Magic numbers: what the bytes are, whatever the name or the browser says.
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


def sniff(head: bytes) -> str | None:
    for kind, signatures in SIGNATURES.items():
        if any(head.startswith(signature) for signature in signatures):
            return kind
    return None


def check_upload(uploaded, *, kinds=("pdf", "jpeg", "png"), max_bytes: int = 5 * MB) -> str:
    """The kind ("pdf", "jpeg", "png") of `uploaded`, read from its first bytes; ValidationError
    with a French message when it is empty, too large or of a kind not in `kinds`."""
    size = getattr(uploaded, "size", None) or 0
    if size == 0:
        raise ValidationError("Le fichier est vide.", code="empty")
    if size > max_bytes:
        raise ValidationError(
            f"Le fichier dépasse la taille maximale de {max_bytes // MB} Mo ({size / MB:.1f} Mo).".replace(".", ","),
            code="too_large",
        )
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    kind = sniff(head)
    if kind not in kinds:
        allowed = ", ".join(LABELS[k] for k in kinds)
        raise ValidationError(
            f"Type de fichier refusé : seuls les fichiers {allowed} sont acceptés (le contenu est vérifié).",
            code="bad_type",
        )
    if kind in ("jpeg", "png"):
        try:
            with Image.open(uploaded) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValidationError("L'image est illisible ou corrompue.", code="bad_image") from exc
        finally:
            uploaded.seek(0)
    return kind


def clean_image(uploaded, *, max_side: int = 2000, quality: int = 85) -> ContentFile:
    """Re-encode an image as JPEG: orientation applied, downscaled to `max_side` pixels on its
    longest side, every metadata block (EXIF, GPS, comments) dropped."""
    uploaded.seek(0)
    try:
        with Image.open(uploaded) as source:
            image = ImageOps.exif_transpose(source)
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError("L'image est illisible ou corrompue.", code="bad_image") from exc
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)  # no exif= argument: none written
    return ContentFile(out.getvalue())


def generated_name(folder: str, extension: str) -> str:
    """A storage name that tells nothing about the file or its owner."""
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


def file_response(fieldfile, *, filename: str, inline: bool = False, content_type: str | None = None) -> FileResponse:
    """Serve a private file: explicit Content-Disposition, nosniff, never cached."""
    kind = sniff(fieldfile.open("rb").read(16))
    fieldfile.seek(0)
    response = FileResponse(
        fieldfile, as_attachment=not inline, filename=filename, content_type=content_type or CONTENT_TYPES.get(kind)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class UploadField(forms.FileField):
    """A FileField whose clean() checks the kind by content and the size (French messages)."""

    def __init__(self, *, kinds=("pdf", "jpeg", "png"), max_bytes: int = 5 * MB, **kwargs):
        self.kinds = tuple(kinds)
        self.max_bytes = max_bytes
        kwargs.setdefault(
            "help_text",
            f"{', '.join(LABELS[k] for k in self.kinds)}, {max_bytes // MB} Mo au plus.",
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ",".join(CONTENT_TYPES[k] for k in self.kinds))

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded and hasattr(uploaded, "read") and uploaded is not initial:
            uploaded.detected_kind = check_upload(uploaded, kinds=self.kinds, max_bytes=self.max_bytes)
        return uploaded

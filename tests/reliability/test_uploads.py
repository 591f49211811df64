"""Uploads and documents (RELIABILITY.md IV-3, IV-4, IV-5): types checked by content, size limits,
images re-encoded without EXIF, generated names, private serving headers, and a PDF renderer that
fetches nothing: a tenant named `<img src="http://127.0.0.1:PORT/x">` causes no connection."""

import io
import socket
import threading

import pytest
import weasyprint
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader

from billing.pdf import STATIC_BASE_URL, StaticOnlyFetcher, render_pdf
from tenancies import privacy
from tenancies.uploads import MB, UploadField, check_upload, clean_image, file_response, generated_name

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def jpeg_with_exif(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "MarqueurAppareil"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 200)).save(out, format="PNG")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("facture.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),  # HTML renamed .pdf
        ("photo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "image/jpeg"),
        ("piece.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "application/pdf"),  # an executable
        ("archive.pdf", b"PK\x03\x04" + b"\x00" * 100, "application/pdf"),  # a zip
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"not really a png", "image/png"),  # a broken image
    ],
)
def test_wrong_or_disguised_content_is_refused(name, content, content_type):
    with pytest.raises(ValidationError) as caught:
        check_upload(upload(name, content, content_type))
    assert caught.value.code in ("bad_type", "bad_image")


def test_the_kind_comes_from_the_bytes_not_the_name():
    assert check_upload(upload("scan.jpg", PDF, "image/jpeg")) == "pdf"  # a PDF named .jpg is a PDF
    assert check_upload(upload("document.pdf", png(), "application/pdf")) == "png"
    with pytest.raises(ValidationError):
        check_upload(upload("document.pdf", png()), kinds=("pdf",))  # an image where only PDFs go


def test_size_limits():
    with pytest.raises(ValidationError) as caught:
        check_upload(upload("vide.pdf", b""))
    assert caught.value.code == "empty"
    big = PDF + b"0" * (2 * MB)
    with pytest.raises(ValidationError) as caught:
        check_upload(upload("gros.pdf", big), max_bytes=2 * MB)
    assert caught.value.code == "too_large" and "2 Mo" in caught.value.messages[0]
    assert check_upload(upload("ok.pdf", big), max_bytes=3 * MB) == "pdf"


def test_upload_field_checks_in_clean():
    field = UploadField(kinds=("pdf",), max_bytes=MB)
    assert field.widget.attrs["accept"] == "application/pdf"
    with pytest.raises(ValidationError):
        field.clean(upload("x.pdf", png()))
    assert field.clean(upload("x.pdf", PDF)).detected_kind == "pdf"


def test_clean_image_strips_exif_and_downscales():
    original = jpeg_with_exif((3000, 1500))
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif()  # the source has EXIF and GPS
    cleaned = clean_image(upload("p.jpg", original, "image/jpeg"), max_side=2000)
    data = cleaned.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 2000
        assert not image.getexif()
        assert "exif" not in image.info and "MarqueurAppareil" not in str(image.info)
    assert b"MarqueurAppareil" not in data and b"Exif" not in data[:200]
    # A PNG becomes a JPEG too.
    with Image.open(io.BytesIO(clean_image(upload("p.png", png(), "image/png")).read())) as image:
        assert image.format == "JPEG"


def test_generated_names_tell_nothing():
    first, second = generated_name("photos", "jpg"), generated_name("photos", "jpg")
    assert first != second
    folder, year, month, name = first.split("/")
    assert folder == "photos" and year.isdigit() and month.isdigit()
    stem, extension = name.split(".")
    assert extension == "jpg" and len(stem) == 32 and int(stem, 16) >= 0


@pytest.mark.django_db
def test_file_response_headers(settings):
    name = default_storage.save(generated_name("tests", "pdf"), ContentFile(PDF))
    try:
        assert str(default_storage.path(name)).startswith(str(settings.MEDIA_ROOT))
        assert not str(default_storage.path(name)).startswith(str(settings.STATIC_ROOT))

        class Holder:
            file = default_storage.open(name, "rb")

        response = file_response(Holder.file, filename="Bail Dupont été.pdf")
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''Bail%20Dupont%20%C3%A9t%C3%A9.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == PDF
        response.close()
        inline = file_response(default_storage.open(name, "rb"), filename="p.pdf", inline=True)
        assert inline["Content-Disposition"].startswith("inline;")
        inline.close()
    finally:
        default_storage.delete(name)


# --- The PDF renderer fetches nothing --------------------------------------------------------------


@pytest.fixture
def listener():
    """A TCP server on a free loopback port counting the connections it accepts."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_the_listener_does_count(listener):
    """The control: without our fetcher, WeasyPrint does connect to the listener."""
    port, accepted = listener
    html = f'<p>x</p><img src="http://127.0.0.1:{port}/x">'
    weasyprint.HTML(string=html).write_pdf()
    assert len(accepted) >= 1


def test_a_hostile_tenant_name_fetches_nothing(listener, world):
    port, accepted = listener
    person = world["A"].person
    hostile = f'<img src="http://127.0.0.1:{port}/x"><link rel="stylesheet" href="file:///etc/passwd">'
    person.last_name = hostile
    person.save()
    data = privacy.export_person_pdf(person)  # the tenant's name, escaped, in a WeasyPrint document
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert f"127.0.0.1:{port}/x" in text  # printed as text
    assert "root:" not in text
    # Even markup that does reach WeasyPrint unescaped goes through the static-only fetcher.
    raw = f'<img src="http://127.0.0.1:{port}/y"><link rel="stylesheet" href="http://127.0.0.1:{port}/z.css">'
    weasyprint.HTML(string=raw, base_url=STATIC_BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf()
    assert accepted == []


@pytest.mark.django_db
def test_the_fetcher_serves_our_static_files_only():
    fetcher = StaticOnlyFetcher()
    assert fetcher.fetch(STATIC_BASE_URL + "css/pdf.css").read()
    for url in (
        "http://127.0.0.1:9/x",
        "https://example.org/a.css",
        "file:///etc/passwd",
        STATIC_BASE_URL + "../../etc/passwd",
        "file:///static/css/../../config/settings.py",
        "data:text/plain,hello",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert render_pdf("tenancies/person_export.pdf.html", {"export": {"person": {"name": "x"}}, "sections": []})

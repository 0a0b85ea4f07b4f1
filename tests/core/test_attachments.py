from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from workbench.core import attachments as A

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def test_image_is_sent_inline(tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(PNG)
    att = A.load_file(path)
    assert att.kind == "image"
    assert att.mime_type == "image/png"
    assert att.sent_as == "sent inline (base64)"
    block = att.to_content()
    assert block["type"] == "image"
    assert base64.b64decode(block["data"]) == PNG
    assert len(att.sha256) == 64


def test_text_file_goes_as_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# hello")
    att = A.load_file(path)
    assert att.kind == "text"
    assert att.to_content()["type"] == "text"
    assert "# hello" in att.to_content()["text"]


def test_pdf_by_magic_even_without_extension() -> None:
    att = A.from_bytes("pasted", b"%PDF-1.7 ...")
    assert (att.kind, att.mime_type) == ("document", "application/pdf")


def test_audio_and_video_by_extension() -> None:
    assert A.from_bytes("a.mp3", b"\xff\xfb\x90d" + b"\1" * 10).kind == "audio"
    assert A.from_bytes("v.mp4", b"\0\0\0\x18ftypmp42" + b"\1" * 10).kind == "video"


def test_unsupported_is_refused_clearly() -> None:
    with pytest.raises(A.AttachmentError, match="cannot be sent"):
        A.from_bytes("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")


def test_oversize_is_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(A, "MAX_UPLOAD_BYTES", 100)
    monkeypatch.setattr(A, "UPLOAD_THRESHOLD", 10)
    path = tmp_path / "big.png"
    path.write_bytes(PNG * 10)
    with pytest.raises(A.AttachmentError, match="Files API takes files of at most 100 B"):
        A.load_file(path)
    with pytest.raises(A.AttachmentError, match="at most 100 B"):
        A.from_bytes("pasted.png", PNG * 10)


def test_big_files_are_uploaded_from_disk_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(A, "UPLOAD_THRESHOLD", len(PNG) * 2)
    path = tmp_path / "big.png"
    path.write_bytes(PNG * 3)
    att = A.load_file(path)
    assert att.data == b"" and att.path == path and att.size == len(PNG) * 3
    assert att.upload and att.sent_as == "uploaded first (Files API)"
    assert att.sha256 == hashlib.sha256(PNG * 3).hexdigest() and att.read() == PNG * 3
    small = tmp_path / "small.png"
    small.write_bytes(PNG)
    kept = A.load_file(small)
    assert kept.data == PNG and kept.path == small and not kept.upload


def test_inline_total_is_kept_by_uploading_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(A, "MAX_TOTAL_BYTES", 60)
    one = A.from_bytes("a.png", PNG)
    two = A.place([one], A.from_bytes("b.png", PNG))
    assert not one.upload and two.upload  # inline they would pass 60 B
    assert A.place([one, two], A.from_bytes("c.png", PNG[:20] + b"x")).upload
    with pytest.raises(A.AttachmentError, match="separate message"):
        A.check_total([one], A.from_bytes("b.txt", b"t" * 40))  # text always goes inline


def test_human_size() -> None:
    assert A.human_size(12) == "12 B"
    assert A.human_size(2048) == "2.0 KB"
    assert A.human_size(3 * 1024 * 1024) == "3.0 MB"


def test_a_file_that_only_claims_a_known_type_is_refused() -> None:
    elf = b"\x7fELF\x02\x01\x01" + bytes(range(256))
    for name, hint in (("photo.png", None), ("scan.pdf", None), ("pasted", "image/jpeg")):
        with pytest.raises(A.AttachmentError, match="whatever its name says"):
            A.from_bytes(name, elf, hint)
    # The content decides when it is known: a JPEG named .png goes out as a JPEG.
    assert A.from_bytes("photo.png", b"\xff\xd8\xff\xe0" + b"\1" * 10).mime_type == "image/jpeg"

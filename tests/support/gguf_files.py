"""Small but real GGUF files written with the ``gguf`` package (llama.cpp's own writer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter
from gguf.constants import LlamaFileType


def write_gguf(
    path: Path,
    *,
    arch: str = "llama",
    ctx: int = 4096,
    template: bool = True,
    file_type: int = LlamaFileType.MOSTLY_Q4_K_M,
    rows: int = 4,
) -> Path:
    """A small but real GGUF file (one tensor), as llama.cpp's own writer makes them."""
    writer = GGUFWriter(str(path), arch)
    writer.add_name(path.stem)
    writer.add_context_length(ctx)
    writer.add_file_type(file_type)
    if template:
        writer.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    writer.add_tensor("token_embd.weight", np.ones((rows, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path

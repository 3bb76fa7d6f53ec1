"""The one reader of the suite's embedding caches (.batemb, written by `bat embed`) for the diagnostics here."""
import json
import struct
import sys

import numpy as np

MAGIC = b"BATEMB01"
ALIGNMENT = 64  # the body starts at the next 64-byte boundary after the header (lib/Bat/Probing/EmbeddingCache.cs)


def load_cache(path):
    """(header, array of shape (clips, layers, 1 + patches, dim)) of one .batemb file."""
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            sys.exit(f"{path}: not a bat embedding cache (no {MAGIC.decode()} magic)")
        length = struct.unpack("<i", f.read(4))[0]
        header = json.loads(f.read(length))
    used = 12 + length
    body = used + (ALIGNMENT - used % ALIGNMENT) % ALIGNMENT
    shape = (header["clips"], header["layers"], header["tokens"], header["dim"])
    return header, np.memmap(path, dtype=np.float16, mode="r", offset=body, shape=shape)

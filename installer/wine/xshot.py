"""Save the whole X screen ($DISPLAY) as a PNG: ``python3 installer/wine/xshot.py OUT.png``.

What Wine drew for the Windows build under Xvfb, grabbed from the outside with ``xwd`` (apt
x11-apps) and converted here with the standard library only (no ImageMagick, no Pillow).
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

__all__ = ["grab", "xwd_to_png"]


def xwd_to_png(xwd: bytes) -> bytes:
    """A 24/32-bit TrueColor ZPixmap XWD dump (what ``xwd -root`` gives on Xvfb) -> PNG."""
    header = struct.unpack(">25I", xwd[:100])
    (header_size, _version, pixmap_format, _depth, width, height, _xoffset, byte_order,
     _unit, _bit_order, _pad, bits_per_pixel, bytes_per_line, _visual, red_mask, green_mask,
     blue_mask, _bits_per_rgb, _entries, ncolors) = header[:20]  # fmt: skip
    if pixmap_format != 2 or bits_per_pixel not in (24, 32):
        raise ValueError(f"unsupported XWD: format {pixmap_format}, {bits_per_pixel} bpp")
    data = xwd[header_size + 12 * ncolors :]
    size = bits_per_pixel // 8
    order = "little" if byte_order == 0 else "big"
    shifts = [(mask & -mask).bit_length() - 1 for mask in (red_mask, green_mask, blue_mask)]
    rows = []
    for y in range(height):
        line = data[y * bytes_per_line : y * bytes_per_line + size * width]
        row = bytearray(b"\x00")  # PNG filter type 0 (none)
        for x in range(0, size * width, size):
            pixel = int.from_bytes(line[x : x + size], order)
            row += bytes((pixel >> shift) & 0xFF for shift in shifts)
        rows.append(bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))  # fmt: skip


def grab(out: Path) -> Path:
    xwd = subprocess.run(["xwd", "-root", "-silent"], check=True, capture_output=True).stdout
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(xwd_to_png(xwd))
    return out


if __name__ == "__main__":
    print(grab(Path(sys.argv[1])))

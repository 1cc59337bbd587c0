"""The home-screen icons of the installable web app, drawn without any imaging library.

Two rings that overlap (a patient and their supporter: the alliance) on the Alliance
green. ``python -m alliance.checkins.pwa_icons`` writes the SVG and the PNGs (192 and 512,
and a 512 "maskable" one whose drawing keeps to the safe circle) into the app's static
folder; the files are committed, so this runs only when the design changes.
"""

import math
import struct
import zlib
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent / "static" / "checkins" / "icons"
BACKGROUND = (0x1F, 0x5F, 0x63)
LEFT_RING = (0xFF, 0xFF, 0xFF)
RIGHT_RING = (0xFF, 0xBF, 0x47)
# In units of the icon's size: ring centres, radius and stroke width.
LEFT_CENTRE, RIGHT_CENTRE, CENTRE_Y = 0.405, 0.595, 0.5
RING_RADIUS, RING_WIDTH = 0.19, 0.065
CORNER = 0.22  # the rounded square's corner radius (not for the maskable icon)
MASKABLE_SCALE = 0.78  # the drawing inside the maskable icon's safe zone


def ring_distance(x: float, y: float, cx: float, cy: float, radius: float, width: float) -> float:
    """Signed distance (negative inside) from a point to a ring's stroke."""
    return abs(math.hypot(x - cx, y - cy) - radius) - width / 2


def rounded_square_distance(x: float, y: float, size: float, corner: float) -> float:
    half = size / 2
    qx = abs(x - half) - (half - corner)
    qy = abs(y - half) - (half - corner)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - corner


def coverage(distance: float) -> float:
    """Anti-aliasing: how much of a one-pixel square the shape covers."""
    return min(1.0, max(0.0, 0.5 - distance))


def draw(size: int, *, maskable: bool) -> bytes:
    """RGBA rows of the icon, each prefixed by PNG's "no filter" byte."""
    scale = size * (MASKABLE_SCALE if maskable else 1.0)
    offset = (size - scale) / 2
    radius, width = RING_RADIUS * scale, RING_WIDTH * scale
    left_x, right_x = offset + LEFT_CENTRE * scale, offset + RIGHT_CENTRE * scale
    centre_y = offset + CENTRE_Y * scale
    rows = bytearray()
    for row in range(size):
        rows.append(0)
        y = row + 0.5
        for column in range(size):
            x = column + 0.5
            if maskable:
                alpha = 1.0
            else:
                alpha = coverage(rounded_square_distance(x, y, size, CORNER * size))
            colour = list(BACKGROUND)
            # The right ring first, then the left over it: they interlock at one crossing.
            for centre, ring in ((right_x, RIGHT_RING), (left_x, LEFT_RING)):
                cover = coverage(ring_distance(x, y, centre, centre_y, radius, width))
                if cover:
                    mixed = zip(colour, ring, strict=True)
                    colour = [round(c * (1 - cover) + r * cover) for c, r in mixed]
            rows += bytes((*colour, round(alpha * 255)))
    return bytes(rows)


def png(size: int, *, maskable: bool = False) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(draw(size, maskable=maskable), 9))
        + chunk(b"IEND", b"")
    )


def svg() -> str:
    def hex_colour(rgb) -> str:
        return "#" + "".join(f"{c:02x}" for c in rgb)

    unit = 512
    radius, width = RING_RADIUS * unit, RING_WIDTH * unit
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {unit} {unit}">'
        "<title>Alliance</title>"
        f'<rect width="{unit}" height="{unit}" rx="{CORNER * unit:g}" '
        f'fill="{hex_colour(BACKGROUND)}"/>'
        f'<circle cx="{RIGHT_CENTRE * unit:g}" cy="{CENTRE_Y * unit:g}" r="{radius:g}" '
        f'fill="none" stroke="{hex_colour(RIGHT_RING)}" stroke-width="{width:g}"/>'
        f'<circle cx="{LEFT_CENTRE * unit:g}" cy="{CENTRE_Y * unit:g}" r="{radius:g}" '
        f'fill="none" stroke="{hex_colour(LEFT_RING)}" stroke-width="{width:g}"/>'
        "</svg>\n"
    )


def main() -> None:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    (ICON_DIR / "icon.svg").write_text(svg())
    (ICON_DIR / "icon-192.png").write_bytes(png(192))
    (ICON_DIR / "icon-512.png").write_bytes(png(512))
    (ICON_DIR / "icon-maskable-512.png").write_bytes(png(512, maskable=True))


if __name__ == "__main__":
    main()

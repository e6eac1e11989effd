"""The body diagram: a front, a back and a face view drawn as SVG shapes.

Each body region (BodyRegion.code) has one shape here. Left and right are the
patient's own sides: on the front and face views the patient's right is on the
viewer's left; on the back view the patient's left is on the viewer's left.
Shapes for the right half of the front and face views are drawn once and mirrored.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

WIDTH = 200
_NUMBER_PAIR = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


def mirror(d: str) -> str:
    """Mirror an SVG path (absolute x,y pairs only) across the vertical centre line."""
    return _NUMBER_PAIR.sub(lambda m: f"{WIDTH - float(m.group(1)):g},{m.group(2)}", d)


def _pair(right_code: str, left_code: str, shape: tuple) -> dict[str, tuple]:
    """The same shape for both sides: given for the viewer's left, mirrored for the right."""
    kind, *values = shape
    if kind == "path":
        return {right_code: shape, left_code: ("path", mirror(values[0]))}
    cx, cy, rx, ry = values
    return {right_code: shape, left_code: ("ellipse", WIDTH - cx, cy, rx, ry)}


# Outline of the whole body (not clickable), shared by the front and back views.
_ARM = "M60,78 C48,82 41,98 39,122 L33,200 L29,236 L41,238 L47,202 L56,142 L61,102 Z"
_LEG = "M58,214 L99,214 L97,300 L94,334 L92,418 L72,422 L71,334 L62,300 Z"
BODY_OUTLINE = [
    ("ellipse", 100, 34, 19, 24),
    ("path", "M91,54 L109,54 L110,74 L90,74 Z"),
    (
        "path",
        "M64,74 C80,67 120,67 136,74 L142,90 L136,150 C133,172 134,192 142,214 "
        "L58,214 C66,192 67,172 64,150 L58,90 Z",
    ),
    ("path", _ARM),
    ("path", mirror(_ARM)),
    ("path", _LEG),
    ("path", mirror(_LEG)),
    ("ellipse", 80, 428, 12, 6),
    ("ellipse", 120, 428, 12, 6),
]

FRONT_REGIONS = {
    **_pair(
        "arm_right", "arm_left", ("path", "M59,82 C49,86 44,98 42,118 L40,160 L54,160 L58,120 Z")
    ),
    "abdomen_upper": ("path", "M77,146 L123,146 L123,177 L77,177 Z"),
    "abdomen_lower": ("path", "M77,185 L123,185 L126,211 L74,211 Z"),
    **_pair(
        "flank_right",
        "flank_left",
        ("path", "M64,150 L75,148 L75,209 L61,209 C64,190 66,170 64,150 Z"),
    ),
    # The thigh in thirds (outer, front, inner), each 13 units and more across: a fingertip
    # in the close-up on a tablet.
    **_pair("thigh_outer_right", "thigh_outer_left", ("path", "M58,218 L71,218 L72,298 L62,298 Z")),
    **_pair("thigh_front_right", "thigh_front_left", ("path", "M72,218 L85,218 L84,298 L73,298 Z")),
    **_pair("thigh_inner_right", "thigh_inner_left", ("path", "M86,218 L99,218 L97,298 L85,298 Z")),
    **_pair("knee_right", "knee_left", ("ellipse", 80, 314, 13, 11)),
}

BACK_REGIONS = {
    "neck_back": ("path", "M91,55 L109,55 L110,74 L90,74 Z"),
    # Seen from behind, the patient's left is on the viewer's left.
    **_pair("shoulder_left", "shoulder_right", ("ellipse", 68, 83, 11, 10)),
    "upper_back": ("path", "M78,80 L122,80 L130,140 L70,140 Z"),
    **_pair("elbow_left", "elbow_right", ("ellipse", 45, 160, 9.5, 10)),
    "lower_back": ("path", "M70,144 L130,144 L134,200 L66,200 Z"),
    **_pair(
        "buttock_left",
        "buttock_right",
        ("path", "M59,204 L99,204 L99,250 C85,257 68,255 60,246 Z"),
    ),
    **_pair("thigh_back_left", "thigh_back_right", ("path", "M62,256 L98,258 L96,300 L65,300 Z")),
}

FACE_OUTLINE = [
    ("path", "M18,276 C28,222 66,210 76,206 L124,206 C134,210 172,222 182,276 Z"),
    ("path", "M75,160 L125,160 L126,210 L74,210 Z"),
    ("ellipse", 41, 104, 8, 16),
    ("ellipse", 159, 104, 8, 16),
    ("ellipse", 100, 100, 58, 74),
]
# Drawn over the regions, not clickable: it is what makes the face read as a face.
FACE_FEATURES = [
    ("path", "M62,80 C70,74 84,74 90,79"),
    ("path", "M138,80 C130,74 116,74 110,79"),
    ("ellipse", 77, 92, 6, 3),
    ("ellipse", 123, 92, 6, 3),
    ("path", "M100,92 L95,124 C98,128 102,128 105,124"),
    ("path", "M88,148 C96,153 104,153 112,148"),
]
FACE_REGIONS = {
    "forehead": ("path", "M58,64 C70,34 130,34 142,64 L142,72 L58,72 Z"),
    **_pair("eye_right", "eye_left", ("ellipse", 76, 92, 16, 10)),
    **_pair("cheek_right", "cheek_left", ("ellipse", 67, 121, 12, 15)),
    **_pair(
        "nasolabial_right",
        "nasolabial_left",
        # Wide enough for a fingertip (about 20 units) in the face view drawn closer on a tablet.
        ("path", "M88,110 C78,120 76,132 78,144 L92,144 C91,132 93,122 97,112 Z"),
    ),
    "perioral": ("ellipse", 100, 148, 17, 10),
    **_pair(
        "jawline_right",
        "jawline_left",
        ("path", "M46,128 C52,154 68,168 86,172 L87,164 C72,160 60,148 54,126 Z"),
    ),
    "neck_front": ("path", "M77,178 L123,178 L124,204 L76,204 Z"),
    "decollete": (
        "path",
        "M46,236 C64,218 80,214 100,214 C120,214 136,218 154,236 L150,262 L50,262 Z",
    ),
}


@dataclass(frozen=True)
class View:
    key: str
    title: str  # lazy: translated when drawn
    viewbox: str
    outline: list
    regions: dict[str, tuple]
    features: list
    # A close-up is drawn only where zones are chosen: it magnifies regions too small to
    # touch in the whole-body views, which then show them without taking a touch.
    closeup: bool = False
    # Where zones are chosen, a view may be drawn closer (the face, without the shoulders).
    chooser_viewbox: str = ""

    def box(self, interactive: bool) -> str:
        return (interactive and self.chooser_viewbox) or self.viewbox


# Where zones are chosen (map_new), every view is drawn at least 340 CSS px wide from a
# 768 px tablet up (diagram.css, two views a row). A region takes a touch in a view where
# the smaller side of its box is 48 px or more there (44 px, WCAG 2.5.5, and a margin);
# elsewhere it is shown, dashed, and chosen in a close-up. Every region takes a touch in
# at least one view (tests/treatments/test_maps.py).
CHOOSER_VIEW_PX = 340
TARGET_PX = 48


def extent(shape: tuple) -> float:
    """The smaller side of a shape's box, in diagram units (a path's control points count:
    the curves here bulge little)."""
    kind, *values = shape
    if kind == "ellipse":
        return 2 * min(values[2], values[3])
    points = [(float(x), float(y)) for x, y in _NUMBER_PAIR.findall(values[0])]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(max(xs) - min(xs), max(ys) - min(ys))


def takes_touch(shape: tuple, viewbox: str) -> bool:
    width = float(viewbox.split()[2])
    return extent(shape) * CHOOSER_VIEW_PX / width >= TARGET_PX


# Landmarks that help the eye: the navel (the abdomen is split above and below it), the spine.
FRONT_FEATURES = [("ellipse", 100, 181, 2.5, 2.5)]
BACK_FEATURES = [("path", "M100,76 L100,200")]


def _some(regions: dict[str, tuple], *prefixes: str) -> dict[str, tuple]:
    return {code: shape for code, shape in regions.items() if code.startswith(prefixes)}


VIEWS = [
    View(
        "front",
        pgettext_lazy("body view", "Front"),
        "0 0 200 440",
        BODY_OUTLINE,
        FRONT_REGIONS,
        FRONT_FEATURES,
    ),
    View(
        "back",
        pgettext_lazy("body view", "Back"),
        "0 0 200 440",
        BODY_OUTLINE,
        BACK_REGIONS,
        BACK_FEATURES,
    ),
    View(
        "face",
        _("Face and neck"),
        "0 0 200 280",
        FACE_OUTLINE,
        FACE_REGIONS,
        FACE_FEATURES,
        chooser_viewbox="36 26 128 240",
    ),
    View(
        "closeup",
        _("Abdomen, flanks and legs, close-up"),
        "56 144 88 186",
        BODY_OUTLINE,
        _some(FRONT_REGIONS, "abdomen", "flank", "thigh", "knee"),
        FRONT_FEATURES,
        closeup=True,
    ),
    View(
        "arms",
        _("Arms, close-up"),
        "36 78 128 86",
        BODY_OUTLINE,
        _some(FRONT_REGIONS, "arm"),
        [],
        closeup=True,
    ),
    View(
        "upper-back",
        _("Neck, shoulders and elbows from behind, close-up"),
        "34 50 132 122",
        BODY_OUTLINE,
        _some(BACK_REGIONS, "neck", "shoulder", "elbow", "upper_back"),
        BACK_FEATURES,
        closeup=True,
    ),
]


def all_region_codes() -> set[str]:
    return {code for view in VIEWS for code in view.regions}

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
    **_pair("thigh_outer_right", "thigh_outer_left", ("path", "M58,218 L66,218 L68,298 L62,298 Z")),
    **_pair("thigh_front_right", "thigh_front_left", ("path", "M67,218 L89,218 L88,298 L69,298 Z")),
    **_pair("thigh_inner_right", "thigh_inner_left", ("path", "M90,218 L98,218 L96,298 L89,298 Z")),
    **_pair("knee_right", "knee_left", ("ellipse", 80, 314, 13, 11)),
}

BACK_REGIONS = {
    "neck_back": ("path", "M91,56 L109,56 L110,73 L90,73 Z"),
    # Seen from behind, the patient's left is on the viewer's left.
    **_pair("shoulder_left", "shoulder_right", ("ellipse", 68, 83, 11, 9)),
    "upper_back": ("path", "M78,80 L122,80 L130,140 L70,140 Z"),
    **_pair("elbow_left", "elbow_right", ("ellipse", 46, 160, 8, 9)),
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
    **_pair("eye_right", "eye_left", ("ellipse", 76, 92, 16, 9)),
    **_pair("cheek_right", "cheek_left", ("ellipse", 67, 121, 12, 15)),
    **_pair(
        "nasolabial_right",
        "nasolabial_left",
        # Wide enough for a fingertip (15 units and more) at the size of the diagram on a tablet.
        ("path", "M88,110 C79,120 77,132 79,144 L91,144 C90,132 92,122 96,112 Z"),
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
    # A close-up is drawn only where zones are chosen: it magnifies regions too thin to
    # touch in the whole-body views, which then show them without taking a touch.
    closeup: bool = False


# Landmarks that help the eye: the navel (the abdomen is split above and below it), the spine.
FRONT_FEATURES = [("ellipse", 100, 181, 2.5, 2.5)]
BACK_FEATURES = [("path", "M100,76 L100,200")]

# The front regions narrower than a fingertip at tablet size (under 15 units): the flanks
# and the outer and inner thighs; the front of the thigh is drawn with them for context.
THIN_REGIONS = frozenset(
    f"{part}_{side}"
    for part in ("flank", "thigh_outer", "thigh_inner")
    for side in ("right", "left")
)
CLOSEUP_REGIONS = {
    code: shape
    for code, shape in FRONT_REGIONS.items()
    if code in THIN_REGIONS or code.startswith("thigh_front")
}

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
    View("face", _("Face and neck"), "0 0 200 280", FACE_OUTLINE, FACE_REGIONS, FACE_FEATURES),
    View(
        "closeup",
        _("Waist and thighs, close-up"),
        "54 144 92 160",
        BODY_OUTLINE,
        CLOSEUP_REGIONS,
        FRONT_FEATURES,
        closeup=True,
    ),
]


def all_region_codes() -> set[str]:
    return {code for view in VIEWS for code in view.regions}

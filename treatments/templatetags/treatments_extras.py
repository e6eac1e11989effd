from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.utils.translation import get_language, pgettext

from treatments.diagram import VIEWS, takes_touch

register = template.Library()


def _element(shape: tuple) -> dict:
    kind, *values = shape
    if kind == "path":
        return {"kind": "path", "d": values[0]}
    # As text: a number in a template is localised (2,5 in French), which SVG cannot read.
    cx, cy, rx, ry = (f"{value:g}" for value in values)
    return {"kind": "ellipse", "cx": cx, "cy": cy, "rx": rx, "ry": ry}


# Colours as SVG attributes, not only CSS: WeasyPrint's SVG renderer ignores the page's
# stylesheets. On screen, diagram.css still takes precedence over these attributes.
PALETTES = {
    "screen": {
        "skin": "#f3e3d3",
        "line": "#8a6f5a",
        "off": "#cfe2ff",
        "edge": "#4a78b8",
        "on": "#dc3545",
        "on_edge": "#7a1620",
    },
    "paper": {
        "skin": "#ffffff",
        "line": "#000000",
        "off": "#ffffff",
        "edge": "#777777",
        "on": "#555555",
        "on_edge": "#000000",
    },
}


def _corners(left: float, top: float, width: float) -> dict:
    """Where the side letters go: the top corners, in a size that reads the same in a close-up."""
    scale = width / 200
    return {
        "left": f"{left + 4 * scale:g}",
        "right": f"{left + width - 14 * scale:g}",
        "top": f"{top + 14 * scale:g}",
        "size": f"{13 * scale:g}",
    }


@register.simple_tag
def body_diagram(
    regions, selected=(), interactive=False, views=None, palette="screen", skip_to=None
):
    """The three-view body diagram; `regions` are BodyRegion rows (labels come from them).

    `selected` holds the codes to highlight. With `interactive`, clicking a region
    toggles the checkbox of the same code in the page (see static/js/body-diagram.js),
    close-ups magnify the regions too small to touch in the whole-body views (shown there,
    not touchable; see treatments.diagram.takes_touch),
    and `skip_to` (an element id) is where a link before the diagram lets the keyboard go.
    `views` limits the drawing to some views (for printing only the ones treated).

    Drawn once per language, labels and choice of zones, then kept (_drawn): a booklet
    page of 20 summaries drew the same few diagrams 20 times (96 ms of the page).
    """
    return _drawn(
        get_language(),
        tuple((region.code, region.shown_label()) for region in regions),
        frozenset(selected),
        bool(interactive),
        None if views is None else frozenset(views),
        palette,
        skip_to if interactive else None,
    )


@lru_cache(maxsize=256)
def _drawn(language, labels, selected, interactive, views, palette, skip_to) -> str:
    """The diagram's markup; `language` is part of the key only (it is the active one).
    Labels in the key: a region renamed in the catalogue is drawn anew."""
    labels = dict(labels)
    # The patient's sides, one letter each: R and L in English, D and G in French.
    right_side = pgettext("patient's right, one letter", "R")
    left_side = pgettext("patient's left, one letter", "L")
    drawn = []
    for view in VIEWS:
        if (views is not None and view.key not in views) or (view.closeup and not interactive):
            continue
        viewbox = view.box(interactive)
        left, top, width, _ = (float(n) for n in viewbox.split())
        drawn.append(
            {
                "key": view.key,
                "title": view.title,
                "viewbox": viewbox,
                "outline": [_element(shape) for shape in view.outline],
                "features": [_element(shape) for shape in view.features],
                # The patient's sides as seen on this view, in its top corners.
                "sides": (left_side, right_side) if view.key == "back" else (right_side, left_side),
                "sides_at": _corners(left, top, width),
                "regions": [
                    {
                        **_element(shape),
                        "code": code,
                        "label": labels[code],
                        "on": code in selected,
                        "target": interactive and takes_touch(shape, viewbox),
                    }
                    for code, shape in view.regions.items()
                    if code in labels
                ],
            }
        )
    return render_to_string(
        "treatments/includes/body_diagram.html",
        {
            "views": drawn,
            "interactive": interactive,
            "colors": PALETTES[palette],
            "skip_to": skip_to,
        },
    )

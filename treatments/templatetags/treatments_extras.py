from django import template

from treatments.diagram import VIEWS

register = template.Library()


def _element(shape: tuple) -> dict:
    kind, *values = shape
    if kind == "path":
        return {"kind": "path", "d": values[0]}
    cx, cy, rx, ry = values
    return {"kind": "ellipse", "cx": cx, "cy": cy, "rx": rx, "ry": ry}


@register.inclusion_tag("treatments/includes/body_diagram.html")
def body_diagram(regions, selected=(), interactive=False, views=None):
    """The three-view body diagram; `regions` are BodyRegion rows (labels come from them).

    `selected` holds the codes to highlight. With `interactive`, clicking a region
    toggles the checkbox of the same code in the page (see static/js/body-diagram.js).
    `views` limits the drawing to some views (for printing only the ones treated).
    """
    labels = {region.code: region.label for region in regions}
    chosen = set(selected)
    drawn = []
    for view in VIEWS:
        if views is not None and view.key not in views:
            continue
        drawn.append(
            {
                "key": view.key,
                "title": view.title,
                "viewbox": view.viewbox,
                "outline": [_element(shape) for shape in view.outline],
                "features": [_element(shape) for shape in view.features],
                "regions": [
                    {**_element(shape), "code": code, "label": labels[code], "on": code in chosen}
                    for code, shape in view.regions.items()
                    if code in labels
                ],
            }
        )
    return {"views": drawn, "interactive": interactive}

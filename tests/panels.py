"""What the widget tests share: reading what a panel currently shows, and a notebook's namespace."""


def png_of(panel):
    """The PNG payloads currently shown in the panel's Output widget."""
    return [
        o["data"]["image/png"] for o in panel.output.outputs if "image/png" in o.get("data", {})
    ]


def assert_redraws(panel, control, value):
    """Set ``control`` to ``value``; the panel must then show one picture, other than before."""
    before = png_of(panel)
    control.value = value
    after = png_of(panel)
    assert len(after) == 1 and after != before, f"setting {control.description!r} did not redraw"


def alt_of(panel):
    """The alt text of the figure the panel shows (``""`` when it shows none)."""
    return "".join(o.get("data", {}).get("text/plain", "") for o in panel.output.outputs)


def notebook_with(source):
    """A namespace like a notebook's (``__name__ == "__main__"``) after running ``source`` in it.

    A panel built on a function from it finds a later definition under the same name,
    as it does when a student re-runs a cell.
    """
    namespace = {"__name__": "__main__"}
    exec(source, namespace)
    return namespace


def placeholder(name, parameters):
    """The source of a function the student has not written yet: ``def name(parameters)`` raising."""
    return f"def {name}({parameters}):\n    raise NotImplementedError()\n"

"""What the widget tests share: reading what a panel currently shows."""


def png_of(panel):
    """The PNG payloads currently shown in the panel's Output widget."""
    return [
        o["data"]["image/png"] for o in panel.output.outputs if "image/png" in o.get("data", {})
    ]

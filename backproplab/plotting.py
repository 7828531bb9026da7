"""Plot helpers shared by the widgets: figures as Jupyter outputs."""

import base64
import io

__all__ = ["png_output"]


def png_output(fig, label):
    """A Jupyter display-data output holding ``fig`` as a PNG (``label`` is its text form)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {"output_type": "display_data", "metadata": {}, "data": {"image/png": data, "text/plain": label}}

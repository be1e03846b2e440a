"""What the benches leave on the Docker engine, removed (tests/support has the same for the
tests, which the benches do not import: it needs pytest)."""

from __future__ import annotations

import contextlib
from typing import Any


def remove_images_tagged(client: Any, *fragments: str) -> None:
    """Remove every image with a tag containing one of `fragments`.

    Lists through the low-level API: `images.list()` inspects each image after listing them
    all, and fails when another process removes one in between."""
    import docker.errors

    for summary in client.api.images():
        for tag in summary.get("RepoTags") or ():
            if any(fragment in tag for fragment in fragments):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_image(tag, force=True)

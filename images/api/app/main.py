"""A minimal API: a health check for the load balancer and one prediction route."""

from __future__ import annotations

import os

from fastapi import FastAPI

app = FastAPI(title=os.environ.get("SERVICE_NAME", "api"))


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict")
def predict(payload: dict[str, float]) -> dict[str, float]:
    return {"prediction": payload.get("x", 0.0) * float(os.environ.get("MODEL_SCALE", "1"))}

"""Removing a workload container that another clean-up is removing at that moment is done,
not an error; any other refusal of the engine still is."""

from __future__ import annotations

from typing import Any

import docker
import pytest
import requests

from deploytools.sandbox.containers import DockerWorkloads


class _Api:
    def __init__(self, status: int, explanation: str) -> None:
        self.status, self.explanation = status, explanation

    def remove_container(self, container_id: str, force: bool) -> None:
        response = requests.Response()
        response.status_code = self.status
        raise docker.errors.APIError("refused", response=response, explanation=self.explanation)


class _Client:
    def __init__(self, api: _Api) -> None:
        self.api = api


def workloads(status: int, explanation: str) -> Any:
    return DockerWorkloads(_Client(_Api(status, explanation)), None, "sbx")


def test_a_removal_already_in_progress_is_done() -> None:
    workloads(409, "removal of container abc is already in progress").remove("abc")


def test_another_conflict_is_raised() -> None:
    with pytest.raises(docker.errors.APIError):
        workloads(409, "container abc is paused").remove("abc")

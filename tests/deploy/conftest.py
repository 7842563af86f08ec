"""The deployment as a clinic's IT team runs it: the image, and Compose starting it.

A Docker engine (started here with the vfs storage driver if none runs), a base
image built with debootstrap and this machine's Python 3.10 (no registry is
reachable here: scripts/docker-base-image), then `make image` with that base.
Containers use host networking on free loopback ports: no bridge, no traffic
off this machine. How long each step took goes to results/deploy/timings.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from scripts.local_servers import ROOT, free_port

# Debian's docker.io client (BuildKit built in); another `docker` on PATH may lack buildx.
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
TIMINGS = ROOT / "results" / "deploy" / "timings.txt"
INSTALL_HINT = "run `make test-packages` (Debian packages docker.io, docker-compose, debootstrap, nginx)"
# BuildKit for the Dockerfile's cache mount (Debian's docker 20.10 has it built in).
# With vfs, every new container is a copy of the whole image: minutes on a busy machine.
ENV = {**os.environ, "DOCKER_BUILDKIT": "1", "COMPOSE_DOCKER_CLI_BUILD": "1", "COMPOSE_HTTP_TIMEOUT": "900",
       "DOCKER_CLIENT_TIMEOUT": "900"}


def record(step: str, value: float, unit: str = "s") -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {step:<50} {value:7.1f} {unit}\n")


@contextmanager
def timed(step: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    record(step, time.monotonic() - start)


def run(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=ROOT, env={**ENV, **kwargs.pop("env", {})}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout[-5000:]}")
    return result


def engine_answers() -> bool:
    return subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0


def start_dockerd(driver: str, log: Path) -> subprocess.Popen | None:
    """dockerd with this storage driver, once it answers; None if it cannot use the driver."""
    with log.open("a") as output:
        dockerd = subprocess.Popen(
            ["dockerd", f"--storage-driver={driver}", "--bridge=none", "--iptables=false",
             "--ip6tables=false", "--ip-masq=false"],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while not engine_answers():
        if dockerd.poll() is not None:
            return None
        if time.monotonic() > deadline:
            stop(dockerd)
            pytest.fail(f"dockerd ({driver}) did not answer:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return dockerd


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory) -> Iterator[str]:
    """A running Docker engine: the one there is, or dockerd started here (and stopped at the end).

    Started here: overlay2 storage where the kernel and file system allow it,
    else vfs (works anywhere, but copies the whole image for every layer and
    container: minutes per start instead of a second); no bridge and no iptables
    rules (containers use the host's network). Its images stay in /var/lib/docker,
    so the next run on this machine reuses the base image and the layers.
    """
    for tool in ("dockerd", "debootstrap", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} is not installed: {INSTALL_HINT}")
    if engine_answers():
        yield DOCKER
        return
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with timed("start dockerd"):
        dockerd = start_dockerd("overlay2", log) or start_dockerd("vfs", log)
    if dockerd is None:
        pytest.fail(f"dockerd did not start:\n{log.read_text()[-3000:]}")
    driver = run(DOCKER, "info", "--format", "{{.Driver}}").stdout.strip()
    record(f"dockerd started, storage driver {driver}", 0)
    try:
        yield DOCKER
    finally:
        stop(dockerd)


def image_tag() -> str:
    return run("git", "describe", "--always", "--dirty", "--abbrev=12").stdout.strip()


@pytest.fixture(scope="session")
def image(docker_engine) -> str:
    """`make image` on the local debootstrap base; returns the image's name:tag."""
    with timed("base image (scripts/docker-base-image)"):
        base = run("scripts/docker-base-image", env={"DOCKER": docker_engine}).stdout.strip().splitlines()[-1]
    tag = image_tag()
    with timed("make image"):
        run("make", "--no-print-directory", "image", f"DOCKER={docker_engine}", f"BASE_IMAGE={base}",
            f"IMAGE_TAG={tag}", "DOCKER_BUILD_FLAGS=--network=host")
    name = f"spine-assistant:{tag}"
    size = int(run(docker_engine, "image", "inspect", "--format", "{{.Size}}", name).stdout)
    record(f"image size {name}", size / 1e6, "MB")
    return name


def compose_command() -> list[str]:
    """`docker compose` where the plugin is there, else Debian's docker-compose 1.29."""
    if subprocess.run([DOCKER, "compose", "version"], capture_output=True).returncode == 0:
        return [DOCKER, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail(f"neither `docker compose` nor docker-compose: {INSTALL_HINT}")


def host_network_compose_file(folder: Path) -> Path:
    """docker-compose.yml as it is, but every service on the host's network.

    The only changes: `network_mode: host` instead of the published `ports`
    (which host networking cannot have), and no `build` (the image is built by
    `make image`). The ${VARIABLES} stay, and the test sets them.
    """
    config = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    config = {key: value for key, value in config.items() if not key.startswith("x-")}
    for service in config["services"].values():
        service.pop("ports", None)
        service.pop("build", None)
        service["network_mode"] = "host"
    path = folder / "docker-compose.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass
class Compose:
    """One Compose project of the image, on free loopback ports."""

    file: Path
    project: str
    env: dict
    started: list = field(default_factory=list)

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        empty = self.file.parent / "empty.env"  # not the developer's .env
        empty.touch()
        return run(*compose_command(), "--file", str(self.file), "--project-name", self.project,
                   "--project-directory", str(ROOT), "--env-file", str(empty), *args,
                   check=check, env=self.env)

    def container(self, service: str) -> str:
        return self("ps", "-q", service).stdout.strip()

    def health(self, service: str) -> str:
        state = json.loads(run(DOCKER, "inspect", "--format", "{{json .State}}", self.container(service)).stdout)
        return state.get("Health", {}).get("Status", "none") if state["Running"] else "stopped"

    def logs(self) -> str:
        return self("logs", "--no-color", check=False).stdout[-8000:]


@contextmanager
def compose_project(image: str, tmp_path: Path, env: dict) -> Iterator[Compose]:
    name, tag = image.split(":")
    project = Compose(
        host_network_compose_file(tmp_path), f"spinetest{uuid.uuid4().hex[:8]}",
        {"IMAGE": name, "IMAGE_TAG": tag, "ACTIONS_HOST": "127.0.0.1", "RASA_INTERFACE": "127.0.0.1",
         "WEB_BIND": "127.0.0.1", **env},
    )
    try:
        yield project
    finally:
        # Containers and the project's volumes; the images stay for the next run.
        result = project("down", "--volumes", "--timeout", "30", check=False)
        assert result.returncode == 0, result.stdout


def wait_for(check, timeout: float, what: str, logs=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}\n{logs()}")
        time.sleep(1)


def answers(url: str) -> bool:
    return requests.get(url, timeout=5).status_code == 200


def rest(url: str, sender: str, message: str) -> list[dict]:
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=60)
    response.raise_for_status()
    return response.json()


def ports(*names: str) -> dict:
    return {name: str(free_port()) for name in names}

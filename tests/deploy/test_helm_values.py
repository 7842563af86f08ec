"""deploy/helm/values.yaml says what the rest of the project says.

No Kubernetes here: these check that the chart's values name this project's
image for both servers, keep telemetry off, and configure the same stores and
socket.io channel as endpoints.scale-out.yml and credentials.yml, so that the
three cannot drift apart.
"""

import yaml

from scripts.local_servers import ROOT

VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())


def test_both_servers_run_the_projects_image():
    action_server = VALUES["rasa-action-server"]
    assert VALUES["image"]["repository"].endswith("/spine-assistant")
    assert action_server["image"] == VALUES["image"]
    assert action_server["args"] == ["actions"]  # deploy/docker-entrypoint's command
    assert "actions)" in (ROOT / "deploy" / "docker-entrypoint").read_text()
    assert "run|" in (ROOT / "deploy" / "docker-entrypoint").read_text()  # the chart's `rasa run ...` args


def test_telemetry_is_off():
    assert VALUES["applicationSettings"]["telemetry"]["enabled"] is False
    assert "RASA_TELEMETRY_ENABLED=false" in (ROOT / "Dockerfile").read_text()


def test_the_stores_are_those_of_endpoints_scale_out():
    endpoints = yaml.safe_load((ROOT / "endpoints.scale-out.yml").read_text())
    chart = VALUES["applicationSettings"]["endpoints"]
    assert chart["trackerStore"]["type"] == endpoints["tracker_store"]["type"]
    assert chart["trackerStore"]["dialect"] == endpoints["tracker_store"]["dialect"]
    assert chart["lockStore"]["type"] == endpoints["lock_store"]["type"]
    assert chart["lockStore"]["key_prefix"] == endpoints["lock_store"]["key_prefix"]
    assert str(chart["lockStore"]["db"]) == str(endpoints["lock_store"]["db"])


def test_the_channels_are_those_of_credentials_yml_but_the_origins():
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    chart = VALUES["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    assert "channels.rest.RestInput" in chart
    socket, ours = chart["channels.socketio.SocketIOInput"], credentials["channels.socketio.SocketIOInput"]
    assert {k: v for k, v in socket.items() if k != "cors_allowed_origins"} == {
        k: v for k, v in ours.items() if k != "cors_allowed_origins"
    }


def test_the_ingress_keeps_a_widget_on_one_replica():
    assert VALUES["replicaCount"] >= 2
    assert VALUES["ingress"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"

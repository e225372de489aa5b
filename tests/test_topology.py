"""One description of the consortium's services: docker-compose.yml is what it gives, service by
service; the launcher's spelling differs only in paths and addresses; secrets go to one service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from flwr.common.config import parse_config_args

from bcfl.chain.devkeys import dev_account
from bcfl.chain.privacy import DEFAULT_BUDGET_DELTA
from bcfl.cli.chain_deploy import privacy_budget_of
from bcfl.cli.settings import DEFAULTS, envvar
from bcfl.demo.compose_file import COMPOSE_FILE, compose_service, compose_text, demo_services
from bcfl.demo.compose_hospital import HOSPITAL_COMPOSE_FILE, hospital_text
from bcfl.demo.consortia import CONSORTIA, HEART
from bcfl.demo.settings import ENV_FILE, DemoSettings, DemoSettingsError, load_demo_settings
from bcfl.demo.summary import INDEX_FILE
from bcfl.demo.topology import (
    APP_DIR,
    CLIENTAPPIO_PORT,
    FLEET,
    GATEWAY,
    GATEWAY_PORT,
    INTERNAL,
    NODE_FOLDER,
    NODE_SECRET,
    NODE_SYNC,
    SUPEREXEC_PREFIX,
    SUPERNODE_PREFIX,
    ComposeLayout,
    Dependency,
    LocalLayout,
    Plan,
    Service,
    consortium_services,
    hospital_node,
    local_folders,
    signer_name,
    signer_socket,
    superexec_name,
    supernode_name,
)
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import (
    REQUIRED,
    SUPEREXEC_POLL,
    NodeSettings,
    parse_chain_settings,
    parse_node_config,
)
from hospital_node.signer.location import SOCKET_PATH_MAX

SETTINGS = load_demo_settings()
SERVICES = demo_services(SETTINGS)


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def test_the_compose_file_has_exactly_the_described_services(committed: dict[str, Any]) -> None:
    assert list(committed["services"]) == [s.name for s in SERVICES]
    assert set(committed["volumes"]) == {m.volume for s in SERVICES for m in s.mounts}
    assert set(committed["networks"]) == {INTERNAL, FLEET}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_compose_service_is_the_described_one(committed: dict[str, Any], service: Service) -> None:
    spelled = committed["services"][service.name]
    expected = compose_service(service)
    for key in (
        "command",
        "environment",
        "volumes",
        "depends_on",
        "healthcheck",
        "ports",
        "restart",
        "networks",
    ):
        assert spelled.get(key) == expected.get(key), f"{service.name}: {key} differs (run make compose-file)"
    assert spelled == expected


def test_the_committed_file_is_the_generated_one_with_its_header() -> None:
    assert COMPOSE_FILE.read_text() == compose_text(SERVICES), "run `make compose-file`"


def test_services_start_after_what_they_depend_on() -> None:
    started: dict[str, Service] = {}
    for service in SERVICES:
        for dependency in service.depends_on:
            before = started[dependency.service]  # KeyError: it starts after its dependant
            if dependency.condition == "service_healthy":
                assert before.health is not None, (service.name, before.name)
            if dependency.condition == "service_completed_successfully":
                assert before.one_shot, (service.name, before.name)
        started[service.name] = service


def test_only_the_coordinator_gets_its_settings_and_each_hospital_only_its_volume() -> None:
    holders = [s.name for s in SERVICES if any(k.startswith("BCFL_COORDINATOR_") for k in s.environment)]
    assert holders == ["coordinator"]
    for name in SETTINGS.hospital_names:
        (node,) = [s for s in SERVICES if s.name == supernode_name(name)]
        (superexec,) = [s for s in SERVICES if s.name == superexec_name(name)]
        assert [m.volume for m in node.mounts] == [f"hospital-{name}"]
        # The SuperExec also reaches its hospital's signing agent, through the socket's volume alone.
        assert [m.volume for m in superexec.mounts] == [f"hospital-{name}", f"signer-{name}"]
        assert not node.environment
        assert superexec.environment == SUPEREXEC_POLL  # Flower's polling only: no setting of any app
    superlink = next(s for s in SERVICES if s.name == "superlink")
    assert "--isolation=process" in superlink.command and superlink.creates_secret is not None
    assert not superlink.environment


def test_each_hospital_runs_apps_only_through_its_verifying_superexec() -> None:
    """The SuperNode starts no app (process isolation); its SuperExec, bcfl-superexec, is the one that
    does, after the chain check, and reads the chain from the same node config. They share a secret
    (made before the SuperNode starts) so no other service on the network can take the node's tasks."""
    for name in SETTINGS.hospital_names:
        by_name = {s.name: s for s in SERVICES}
        node, superexec = by_name[supernode_name(name)], by_name[superexec_name(name)]
        assert node.command[0] == "bcfl-supernode" and "--isolation=process" in node.command
        assert "--host=0.0.0.0" in node.command and f"--port={CLIENTAPPIO_PORT}" in node.command
        assert superexec.command[0] == "bcfl-superexec" and "--insecure" in superexec.command
        assert f"--runtime-api-address={supernode_name(name)}:{CLIENTAPPIO_PORT}" in superexec.command
        secret = f"/data/hospital/{NODE_SECRET}"
        assert node.creates_secret == secret
        assert f"--superexec-auth-secret-file={secret}" in node.command
        assert f"--superexec-auth-secret-file={secret}" in superexec.command
        assert node.command[-1] == superexec.command[-1] and node.command[-1].startswith("--node-config=")
        chain = parse_chain_settings(parse_config_args([node.command[-1].removeprefix("--node-config=")]))
        assert chain.rpc_url == "http://chain:8545"
        assert chain.manifest == Path("/data/hospital/deployment.json")
        assert Dependency(supernode_name(name), "service_started") in superexec.depends_on
    # Nothing is submitted before every hospital's SuperExec runs; onboarding approves the app submitted.
    submit, onboard = (next(s for s in SERVICES if s.name == n) for n in ("submit", "onboard"))
    assert {d.service for d in submit.depends_on} >= {superexec_name(n) for n in SETTINGS.hospital_names}
    assert f"--app-dir={APP_DIR}" in submit.command and f"--app-dir={APP_DIR}" in onboard.command


def test_only_each_hospitals_signer_holds_its_key_and_it_has_no_network(committed: dict[str, Any]) -> None:
    """The keystore and its password are mounted in the hospital's signing agent alone (and the
    one-shot onboarding that makes them); the agent has no network, its socket's volume is shared
    with that hospital's SuperExec only, which starts once the agent answers; no node config the
    SuperNode or SuperExec gets names the keystore or its password."""
    by_name = {s.name: s for s in SERVICES}
    for name in SETTINGS.hospital_names:
        signer = by_name[signer_name(name)]
        assert signer.command[0] == "bcfl-signer" and signer.networks == ()
        assert committed["services"][signer.name]["network_mode"] == "none"
        assert "networks" not in committed["services"][signer.name]
        key_holders = {s.name for s in SERVICES for m in s.mounts if m.volume == f"hospital-{name}-key"}
        assert key_holders == {signer.name, "onboard"}
        assert next(m for m in signer.mounts if m.volume == f"hospital-{name}-key").read_only
        socket_holders = {s.name for s in SERVICES for m in s.mounts if m.volume == f"signer-{name}"}
        assert socket_holders == {signer.name, superexec_name(name)}
        assert signer.health is not None
        assert Dependency(signer.name, "service_healthy") in by_name[superexec_name(name)].depends_on
        for service in (by_name[supernode_name(name)], by_name[superexec_name(name)]):
            config = parse_config_args([service.command[-1].removeprefix("--node-config=")])
            assert not {"keystore", "password-file"} & set(config), service.name
            assert not [a for a in service.command if "keystore" in a or "password" in a], service.name
            assert not [v for v in service.environment.values() if "password" in v.lower()]
            settings = parse_node_config(config)
            assert str(settings.signer_socket) in " ".join(signer.command)
    # Every service but the signers is on a network, and only the signers are on none.
    assert {s.name for s in SERVICES if not s.networks} == {signer_name(n) for n in SETTINGS.hospital_names}


def test_the_launchers_signer_sockets_fit_a_unix_socket_path(tmp_path: Path) -> None:
    """The launcher puts each agent's socket under /tmp (a run directory may be deep): its path stays
    within the 107 bytes of a Unix socket's, whatever the run directory."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 8)
    layout = LocalLayout(local_folders(deep, list(HEART.hospitals)), {"chain": 1, "superlink": 2})
    for name in HEART.hospitals:
        socket = signer_socket(layout, name)
        assert len(socket.encode()) <= SOCKET_PATH_MAX and socket.startswith("/tmp/bcfl-signer-")
        assert str(deep) not in socket
    # Two runs never share a socket.
    other = LocalLayout(local_folders(tmp_path / "other", list(HEART.hospitals)), {})
    assert signer_socket(other, HEART.hospitals[0]) != signer_socket(layout, HEART.hospitals[0])


@pytest.mark.parametrize("demo_name", sorted(CONSORTIA))
def test_the_launcher_runs_the_same_programs_flags_and_environment(tmp_path: Path, demo_name: str) -> None:
    demo = CONSORTIA[demo_name]
    names = list(demo.hospitals)
    plan = Plan(0, 1, 9092, rounds="1")
    ports = {
        "chain": 1001,
        "superlink": 1002,
        "dashboard": 1003,
        GATEWAY: 1004,
        **{supernode_name(n): 2000 + i for i, n in enumerate(names)},
    }
    local = consortium_services(
        LocalLayout(local_folders(tmp_path, names), ports), demo, names, plan, dev_account(1).address
    )
    compose = consortium_services(ComposeLayout(), demo, names, plan, dev_account(1).address)
    for here, there in zip(local, compose, strict=True):
        assert here.name == there.name and here.command[0] == there.command[0]
        # The same flags in the same order (a repeatable one, such as onboard's --tls-name, may repeat
        # another number of times: the launcher's SuperLink and gateway share one host, 127.0.0.1).
        flags = [list(dict.fromkeys(a.split("=")[0] for a in s.command)) for s in (here, there)]
        assert flags[0] == flags[1], here.name
        assert set(here.environment) == set(there.environment)
        assert (here.depends_on, here.restart, here.mounts) == (there.depends_on, there.restart, there.mounts)
    by_name = {s.name: s for s in local}
    # The launcher's hospitals, like compose's: the key and its password only on the agent's command
    # line, the agent's socket (and nothing of the key) in the node config of the SuperNode and SuperExec.
    for name in names:
        signer = by_name[signer_name(name)]
        assert f"--keystore={tmp_path}/hospitals/{name}/key/keystore.json" in signer.command
        for service in (by_name[supernode_name(name)], by_name[superexec_name(name)]):
            config = parse_config_args([service.command[-1].removeprefix("--node-config=")])
            assert not {"keystore", "password-file"} & set(config), service.name
            assert not [a for a in service.command if "keystore" in a or "password" in a], service.name
            assert f"--socket={config['signer-socket']}" in signer.command
    assert "--port=1002" in by_name["superlink"].command
    assert by_name["coordinator"].environment["BCFL_COORDINATOR_RUN_DIR"] == str(tmp_path)
    node_config = by_name[supernode_name(names[0])].command[-1].removeprefix("--node-config=")
    settings = parse_node_config(parse_config_args([node_config]))
    assert settings.data_path == tmp_path / "hospitals" / names[0] / demo.data_name
    assert settings.rpc_url == "http://127.0.0.1:1001"
    superexec = by_name[superexec_name(names[0])]
    assert f"--runtime-api-address=127.0.0.1:{ports[supernode_name(names[0])]}" in superexec.command
    assert superexec.command[-1] == f"--node-config={node_config}"
    # The dashboard listens on loopback only; its index is the run's one (the demo's summary syncs it
    # too), and it reads the coordinator's store in the run directory.
    dashboard = by_name["dashboard"]
    assert "--host=127.0.0.1" in dashboard.command and "--port=1003" in dashboard.command
    assert f"--store={tmp_path / 'models'}" in dashboard.command
    assert dashboard.environment["BCFL_AUDIT_INDEX"] == str(tmp_path / INDEX_FILE)
    assert dashboard.environment["BCFL_SUPERLINK"] == "127.0.0.1:1002"
    assert dashboard.environment["BCFL_DASHBOARD_SUPERLINK_ROOT_CERTIFICATES"] == str(tmp_path / "ca.crt")
    # Every Flower service listens on loopback; the SuperNodes dial the gateway, the rest the SuperLink.
    assert "--host=127.0.0.1" in by_name["superlink"].command
    assert "--host=127.0.0.1" in by_name[GATEWAY].command and "--port=1004" in by_name[GATEWAY].command
    assert "--superlink=127.0.0.1:1004" in by_name[supernode_name(names[0])].command
    assert "--tls-name=127.0.0.1" in by_name["onboard"].command
    assert "--tls-endpoint=127.0.0.1:1004" in by_name["onboard"].command  # pinned: what hospitals dial
    sync = by_name[NODE_SYNC]
    assert "--superlink=127.0.0.1:1002" in sync.command and "--rpc-url=http://127.0.0.1:1001" in sync.command
    assert by_name["onboard"].creates_folders == (str(tmp_path / "models"),)
    assert dashboard.health is not None and "http://127.0.0.1:1003/readyz" in dashboard.health.test[-1]


def test_the_dashboard_only_reads_and_is_published_on_loopback_only() -> None:
    """No key, no password, no coordinator setting: the chain, the manifest and the coordinator's model
    store (mounted read-only), and its own index in its own volume. Healthy once /readyz answers; it
    waits for onboarding, which makes the (empty) store it reads."""
    by_name = {s.name: s for s in SERVICES}
    dashboard = by_name["dashboard"]
    assert dashboard.command[:2] == ("bcfl", "dashboard")
    assert "--host=0.0.0.0" in dashboard.command and "--port=8600" in dashboard.command
    assert dashboard.environment == {
        "BCFL_RPC_URL": "http://chain:8545",
        "BCFL_MANIFEST": "/data/deployment/deployment.json",
        "BCFL_AUDIT_INDEX": f"/data/dashboard/{INDEX_FILE}",
        "BCFL_SUPERLINK": f"superlink:{SETTINGS.superlink_port}",
        "BCFL_DASHBOARD_SUPERLINK_ROOT_CERTIFICATES": "/data/ca/ca.crt",
    }
    assert not [k for k in dashboard.environment if "KEY" in k or "PASSWORD" in k]
    writable = [m.volume for m in dashboard.mounts if not m.read_only]
    assert writable == ["dashboard-index"]
    assert {m.volume for m in dashboard.mounts} == {
        "deployment",
        "coordinator-run",
        "dashboard-index",
        "consortium-ca",
    }
    index_holders = [s.name for s in SERVICES if any(m.volume == "dashboard-index" for m in s.mounts)]
    assert index_holders == ["dashboard"]
    assert "--store=/data/coordinator/run/models" in dashboard.command
    assert by_name["onboard"].creates_folders == ("/data/coordinator/run/models",)
    assert dashboard.published == ("127.0.0.1:${BCFL_DASHBOARD_PORT:?see .env}:8600",)
    assert dashboard.health is not None and "http://127.0.0.1:8600/readyz" in dashboard.health.test[-1]
    assert set(dashboard.depends_on) == {
        Dependency("chain", "service_healthy"),
        Dependency("onboard", "service_completed_successfully"),
    }
    # The one-shot that makes the store runs that step before its program, in the committed file.
    command = compose_service(by_name["onboard"])["command"]
    assert command[:2] == ["sh", "-c"] and command[2].startswith(
        "mkdir -p /data/coordinator/run/models && exec "
    )


def test_node_settings_render_and_parse_back() -> None:
    settings = NodeSettings.model_validate(
        {
            "data-path": "/site/data.csv",
            "schema-path": "/site/schema.json",
            "signer-socket": "/run/signer dir/agent.sock",
            "rpc-url": "http://chain:8545",
            "manifest": "/site/deployment.json",
            "proofs-dir": "/site/proofs",
            "split-seed": "7",
            "test-forge-signature": "true",
        }
    )
    parsed = parse_node_config(parse_config_args([settings.node_config_arg()]))
    assert parsed == settings and parsed.split_seed == 7
    assert parsed.node_config()["test-forge-signature"] == "true"
    assert set(REQUIRED) == {"data-path", "schema-path", "signer-socket", "proofs-dir", "rpc-url", "manifest"}
    # The SuperExec reads only the chain's keys of the same node config.
    chain = parse_chain_settings(parse_config_args([settings.node_config_arg()]))
    assert (chain.rpc_url, chain.manifest) == (settings.rpc_url, settings.manifest)
    with pytest.raises(HospitalNodeError, match="node config 'manifest' is missing"):
        parse_chain_settings({"rpc-url": "http://chain:8545"})
    config = settings.node_config()
    for key in REQUIRED:
        with pytest.raises(HospitalNodeError, match=f"node config '{key}' is missing"):
            parse_node_config({k: v for k, v in config.items() if k != key})
    assert parse_node_config({**config, "split-seed": ""}).split_seed is None
    # The keystore and its password are the signing agent's, never the ClientApp's: refused, in one line.
    for key in ("keystore", "password-file"):
        with pytest.raises(HospitalNodeError, match=f"node config '{key}' is not a node setting") as raised:
            parse_node_config({**config, key: "/site/keystore.json"})
        assert "signing agent" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(HospitalNodeError, match="'split-seed' is invalid"):
        parse_node_config({**config, "split-seed": "seven"})


def test_demo_settings_come_from_the_env_file_and_the_environment_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = ENV_FILE.read_text()
    assert "BCFL_CHAIN_PORT=8545" in text and "BCFL_SUPERLINK_PORT=9092" in text
    assert "BCFL_DASHBOARD_PORT=8600" in text
    for name in DemoSettings.model_fields:
        monkeypatch.delenv(f"BCFL_{name.upper()}", raising=False)
    settings = load_demo_settings()
    assert (settings.chain_port, settings.superlink_port, settings.dashboard_port) == (8545, 9092, 8600)
    assert settings.consortium in CONSORTIA
    assert set(settings.hospital_names) <= set(CONSORTIA[settings.consortium].hospitals)
    monkeypatch.setenv("BCFL_ROUNDS", "7")
    assert load_demo_settings().rounds == 7
    monkeypatch.setenv("BCFL_ROUNDS", "many")
    with pytest.raises(DemoSettingsError, match="BCFL_ROUNDS"):
        load_demo_settings()


def test_cli_settings_name_every_variable_once() -> None:
    assert envvar("rpc_url") == "BCFL_RPC_URL" and envvar("manifest") == "BCFL_MANIFEST"
    assert envvar("keystore_password") == "BCFL_KEYSTORE_PASSWORD"
    assert DEFAULTS.rpc_url.endswith(":8545") and DEFAULTS.superlink.endswith(":9092")
    assert HEART.name == "heart"


def test_flower_runs_over_tls_with_node_authentication_and_the_control_api_stays_inside() -> None:
    """The SuperLink: TLS, registered node keys only (kept in its database), never published (its
    Control API submits runs, unauthenticated). Hospitals' SuperNodes dial the Fleet gateway with the
    CA and their own node key, from their own volume, once their keys are registered; the coordinator,
    the dashboard and ``flwr run`` check the SuperLink against the CA; the TLS keys reach only the
    services that use them."""
    by_name = {s.name: s for s in SERVICES}
    link = by_name["superlink"]
    assert {
        "--ssl-certfile=/data/tls/server.pem",
        "--ssl-keyfile=/data/tls/server.key",
        "--ssl-ca-certfile=/data/tls/ca.crt",
        "--enable-supernode-auth",
        "--database=/data/superlink/state.db",
    } <= set(link.command)
    assert "--insecure" not in link.command and link.published == ()
    assert Dependency("onboard", "service_completed_successfully") in link.depends_on
    gateway = by_name[GATEWAY]
    assert gateway.command[:2] == ("bcfl", "fleet-gateway") and gateway.published == ()
    assert f"--superlink=superlink:{SETTINGS.superlink_port}" in gateway.command
    assert f"--port={GATEWAY_PORT}" in gateway.command
    # The certificate names the hosts the services dial (loopback is added by bcfl.flower.certs).
    onboard = by_name["onboard"]
    assert [a for a in onboard.command if a.startswith("--tls-name=")] == [
        "--tls-name=superlink",
        f"--tls-name={GATEWAY}",
    ]
    tls_holders = {s.name: [m.read_only for m in s.mounts if m.volume == "tls"] for s in SERVICES}
    assert {n: ro for n, ro in tls_holders.items() if ro} == {
        "onboard": [False],
        "superlink": [True],
        GATEWAY: [True],
    }
    for name in SETTINGS.hospital_names:
        node = by_name[supernode_name(name)]
        assert "--insecure" not in node.command
        assert {
            "--root-certificates=/data/hospital/ca.crt",
            "--auth-supernode-private-key=/data/hospital/node.key",
            f"--superlink={GATEWAY}:{GATEWAY_PORT}",
        } <= set(node.command)
        assert Dependency(NODE_SYNC, "service_healthy") in node.depends_on
        assert Dependency(GATEWAY, "service_healthy") in node.depends_on
    # The node sync follows the registry for good (no one-shot), reads only, and is healthy once it
    # reconciled; it holds no key (its mounts: the manifest and the CA certificate, read-only, and its
    # own folder for the ready file).
    sync = by_name[NODE_SYNC]
    assert sync.command[:4] == ("bcfl", "superlink", "sync-nodes", "--follow") and not sync.one_shot
    assert {f"--superlink=superlink:{SETTINGS.superlink_port}", "--root-certificates=/data/ca/ca.crt"} <= set(
        sync.command
    )
    assert sync.health is not None and [m.volume for m in sync.mounts if not m.read_only] == ["node-sync"]
    assert not [a for a in sync.command if "key" in a or "password" in a]
    assert f"--tls-endpoint={GATEWAY}:{GATEWAY_PORT}" in onboard.command
    for name in ("coordinator", "submit"):
        assert "--root-certificates=/data/ca/ca.crt" in by_name[name].command, name
        assert "--insecure" not in by_name[name].command


def test_the_insecure_plan_is_the_old_plain_stack(tmp_path: Path) -> None:
    names = list(HEART.hospitals)
    ports = {"chain": 1, "superlink": 2, "dashboard": 3, GATEWAY: 4, **{supernode_name(n): 10 for n in names}}
    layout = LocalLayout(local_folders(tmp_path, names), ports)
    plan = Plan(0, 1, 2, rounds="1", secure=False)
    services = {s.name: s for s in consortium_services(layout, HEART, names, plan, dev_account(1).address)}
    assert GATEWAY not in services and NODE_SYNC not in services
    link = services["superlink"]
    assert "--insecure" in link.command and "--enable-supernode-auth" not in link.command
    assert not [a for a in services["onboard"].command if a.startswith("--tls")]
    for name in names:
        node = services[supernode_name(name)].command
        assert "--insecure" in node and "--superlink=127.0.0.1:2" in node
        assert not [a for a in node if a.startswith(("--root-certificates", "--auth-supernode"))]
    assert "--insecure" in services["coordinator"].command
    assert "BCFL_DASHBOARD_SUPERLINK_ROOT_CERTIFICATES" not in services["dashboard"].environment


def test_hospitals_containers_cannot_reach_the_superlink() -> None:
    """Two compose networks: the hospitals' side (SuperNodes, their SuperExecs) shares only the chain's
    RPC and the Fleet gateway with the coordinator's side, where the SuperLink and its unauthenticated
    Control API are."""
    hospital_side = {s.name for s in SERVICES if s.name.startswith((SUPERNODE_PREFIX, SUPEREXEC_PREFIX))}
    assert hospital_side and all(s.networks == (FLEET,) for s in SERVICES if s.name in hospital_side)
    on_fleet = {s.name for s in SERVICES if FLEET in s.networks}
    assert on_fleet - hospital_side == {"chain", GATEWAY}
    assert {s.name for s in SERVICES if s.networks == (INTERNAL,)} >= {
        "superlink",
        "coordinator",
        NODE_SYNC,
        "dashboard",
        "submit",
    }
    # And what the hospitals dial is on their network: the gateway and the chain.
    for name in SETTINGS.hospital_names:
        node = next(s for s in SERVICES if s.name == supernode_name(name))
        assert f"--superlink={GATEWAY}:{GATEWAY_PORT}" in node.command


def test_the_hospital_compose_file_is_generated_and_joins_the_demo_fleet_network_only(
    committed: dict[str, Any],
) -> None:
    """docker-compose.hospital.yml: one `node` service, `bcfl node run` on the one folder it mounts,
    the demo's image, on the demo's `fleet` network (external, by the one name both files take from
    .env), never the coordinator's side."""
    assert HOSPITAL_COMPOSE_FILE.read_text() == hospital_text(), "run `make compose-file`"
    document: dict[str, Any] = yaml.safe_load(HOSPITAL_COMPOSE_FILE.read_text())
    (name,) = document["services"]
    node = document["services"][name]
    assert node == {**compose_service(hospital_node(ComposeLayout())), "build": "."}
    assert node["image"] == committed["services"]["chain"]["image"]
    assert node["command"] == ["bcfl", "node", "run", NODE_FOLDER.target]
    assert node["volumes"] == [f"{NODE_FOLDER.volume}:{NODE_FOLDER.target}"] and "environment" not in node
    assert node["networks"] == [FLEET]
    assert document["networks"] == {FLEET: {"name": committed["networks"][FLEET]["name"], "external": True}}
    assert committed["networks"][INTERNAL] is None
    assert "BCFL_FLEET_NETWORK=" in ENV_FILE.read_text() and "BCFL_NODE_DIR=" in ENV_FILE.read_text()


def test_submit_waits_for_the_demo_hospitals_unless_told_more(committed: dict[str, Any]) -> None:
    """The compose file's submit samples every demo hospital, or BCFL_MIN_NODES (a hospital that joined
    with its own compose file); the launcher's the hospitals it started."""
    command = committed["services"]["submit"]["command"]
    hospitals = len(SETTINGS.hospital_names)
    assert f"--min-nodes=${{BCFL_MIN_NODES:-{hospitals}}}" in command
    services = consortium_services(ComposeLayout(), HEART, ["a", "b"], Plan(0, 1, 9092, rounds="1"), "0x0")
    assert "--min-nodes=2" in next(s for s in services if s.name == "submit").command


@pytest.mark.parametrize("demo_name", sorted(CONSORTIA))
def test_the_demo_trains_with_its_differential_privacy_and_deploys_its_budget(
    committed: dict[str, Any], demo_name: str
) -> None:
    """``bcfl demo`` and the compose file (a private plan) deploy the demo's privacy budget and run with
    its dp-epsilon; a plan that is not private (the tests' and benchmarks' federations) does neither."""
    demo = CONSORTIA[demo_name]
    for private in (True, False):
        plan = Plan(0, 1, 9092, rounds="1", private=private)
        by_name = {s.name: s for s in consortium_services(ComposeLayout(), demo, ["a"], plan, "0x0")}
        budget = [a for a in by_name["deploy"].command if a.startswith("--privacy-epsilon=")]
        run_config = next(a for a in by_name["submit"].command if a.startswith("--run-config="))
        if private and demo.dp_epsilon is not None:
            assert budget == [f"--privacy-epsilon={demo.privacy_budget}"]
            assert f"dp-epsilon={demo.dp_epsilon}" in run_config
            assert f"learning-rate={demo.dp_learning_rate}" in run_config
        else:
            assert budget == [] and "dp-epsilon" not in run_config and "learning-rate" not in run_config
        # The launcher (bcfl demo) deploys in-process with the budget compose's deploy job asks for.
        asked = float(budget[0].split("=", 1)[1]) if budget else None
        launched = demo.deployment_parameters(private=private).privacy_budget
        assert launched == privacy_budget_of(asked, DEFAULT_BUDGET_DELTA)
        assert launched.bounded == (private and demo.privacy_budget is not None)
    assert CONSORTIA["heart"].dp_epsilon == 4.0 and CONSORTIA["ihc"].dp_epsilon is None
    # The committed compose file is the demo's private plan.
    assert "--privacy-epsilon=8.0" in committed["services"]["deploy"]["command"]

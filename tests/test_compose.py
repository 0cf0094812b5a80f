"""The production stack as declared in docker-compose.yml and Dockerfile, checked against the settings module.

Nothing is built or started: the files are parsed and compared with what poverty_relief/settings.py reads.
"""

import os
import re
import runpy
import shlex
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS_FILE = ROOT / "poverty_relief" / "settings.py"

APP_SERVICES = ("web", "worker", "beat")
REQUIRED_SERVICES = ("db", "redis", *APP_SERVICES)

# Values for the variables that the compose file makes mandatory with ${NAME:?message}.
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "compose-test-password",
    "POSTGRES_APP_PASSWORD": "compose-test-app-password",
    "DJANGO_SECRET_KEY": "compose-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "relief.example.org",
}

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|(?P<invalid>))"
)


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME:?error} and the
    forms without the colon (which test for unset only, not empty)."""

    def substitute(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("invalid") is not None:
            raise ValueError(f"invalid interpolation in {value!r}")
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        current = env.get(name)
        unset_or_empty = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in ("-", ":-"):
            return arg if unset_or_empty else current
        if op in ("?", ":?"):
            if unset_or_empty:
                raise MissingVariable(f"{name}: {arg}")
            return current
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def interpolate_tree(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(item, env) for key, item in node.items()}
    return node


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "compose file has no services"
    return data


@pytest.fixture(scope="module")
def compose(raw_compose) -> dict:
    """The compose file as `docker compose config` would see it with the mandatory variables set."""
    return interpolate_tree(raw_compose, OPERATOR_ENV)


@pytest.fixture(scope="module")
def dockerfile() -> str:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    # Join continuation lines so that each instruction is one line.
    return re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))


def service_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(name): "" if value is None else str(value) for name, value in env.items()}


def as_argv(command) -> list[str]:
    if command is None:
        return []
    return list(command) if isinstance(command, list) else shlex.split(command)


def command_steps(command) -> list[list[str]]:
    """The commands a service runs one after the other: its argv, or each `&&` step of an `sh -c` script."""
    argv = as_argv(command)
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    steps = [shlex.split(step) for step in argv[2].split("&&")]
    return [step[1:] if step[:1] == ["exec"] else step for step in steps]


def grant_url_variable(migrate: dict) -> str:
    """The variable `grant_app_role --url-env` reads in the migrate service."""
    for step in command_steps(migrate.get("command")):
        if "grant_app_role" in step and "--url-env" in step:
            return step[step.index("--url-env") + 1]
    raise AssertionError(f"migrate does not run grant_app_role --url-env: {migrate.get('command')}")


def healthcheck_text(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def named_mounts(service: dict) -> dict[str, str]:
    """target path -> named volume, for the short and the long volume syntax."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            target = rest.split(":", 1)[0]
        else:
            source, target = volume.get("source", ""), volume.get("target", "")
        if source and not source.startswith((".", "/", "~")):
            mounts[target] = source
    return mounts


def settings_variable_names() -> set[str]:
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    readers = r"os\.environ\.get|os\.getenv|os\.environ\.setdefault|env_bool|env_list|env_int"
    pattern = rf"""(?:{readers})\(\s*["']([A-Z0-9_]+)["']"""
    names = set(re.findall(pattern, text)) | set(
        re.findall(r"""os\.environ\[\s*["']([A-Z0-9_]+)["']\s*\]""", text)
    )
    assert names, (
        "no environment variable reads found in settings.py: the pattern no longer matches its style"
    )
    return names


def load_settings(env: dict[str, str]) -> dict:
    """Execute settings.py with exactly `env` as the variables it reads (the process's own ones hidden)."""
    with mock.patch.dict(os.environ):
        for name in settings_variable_names():
            os.environ.pop(name, None)
        os.environ.update(env)
        return runpy.run_path(str(SETTINGS_FILE), run_name="compose_settings_probe")


def test_every_service_the_settings_need_exists(compose):
    missing = [name for name in REQUIRED_SERVICES if name not in compose["services"]]
    assert not missing, f"services missing from docker-compose.yml: {missing}"


def test_db_is_postgres_16_with_a_volume_and_a_readiness_check(compose):
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:16([.-].*)?", db.get("image", "")), f"db image is {db.get('image')!r}"
    assert "/var/lib/postgresql/data" in named_mounts(db), "db data directory is not on a named volume"
    assert "pg_isready" in healthcheck_text(db), "db healthcheck does not use pg_isready"


def test_redis_is_7_and_never_evicts_and_persists(compose):
    redis = compose["services"]["redis"]
    assert re.fullmatch(r"redis:7([.-].*)?", redis.get("image", "")), f"redis image is {redis.get('image')!r}"
    argv = as_argv(redis.get("command"))
    assert argv[:1] == ["redis-server"], f"redis command does not start redis-server: {argv}"
    joined = " ".join(argv)
    assert re.search(r"--maxmemory-policy[ =]noeviction\b", joined), f"queued tasks could be evicted: {argv}"
    assert re.search(r"--appendonly[ =]yes\b", joined), f"redis runs without AOF persistence: {argv}"
    assert "/data" in named_mounts(redis), "redis /data is not on a named volume"
    assert "redis-cli ping" in healthcheck_text(redis), "redis healthcheck does not use redis-cli ping"


def test_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes") or {})
    used = {volume for service in compose["services"].values() for volume in named_mounts(service).values()}
    assert used <= declared, f"volumes used but not declared at top level: {sorted(used - declared)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_points_at_the_compose_database_and_redis(compose, name):
    env = service_env(compose["services"][name])
    database = urlsplit(env.get("DATABASE_URL", ""))
    assert database.scheme in ("postgres", "postgresql", "pgsql"), f"{name}: DATABASE_URL is not PostgreSQL"
    assert database.hostname == "db", (
        f"{name}: DATABASE_URL host is {database.hostname!r}, not the db service"
    )
    assert database.password == OPERATOR_ENV["POSTGRES_APP_PASSWORD"], (
        f"{name}: database password not from POSTGRES_APP_PASSWORD"
    )
    redis = urlsplit(env.get("REDIS_URL", ""))
    assert redis.scheme == "redis", f"{name}: REDIS_URL is not a redis:// URL"
    assert redis.hostname == "redis", f"{name}: REDIS_URL host is {redis.hostname!r}, not the redis service"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_without_debug_and_with_a_required_secret(raw_compose, compose, name):
    raw_env = service_env(raw_compose["services"][name])
    assert raw_env.get("DJANGO_DEBUG") == "0", f'{name}: DJANGO_DEBUG must be the string "0"'
    secret = raw_env.get("DJANGO_SECRET_KEY", "")
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", secret), (
        f"{name}: DJANGO_SECRET_KEY must be ${{DJANGO_SECRET_KEY:?message}}, got {secret!r}"
    )
    without_secret = {key: value for key, value in OPERATOR_ENV.items() if key != "DJANGO_SECRET_KEY"}
    with pytest.raises(MissingVariable):
        interpolate(secret, without_secret)
    assert service_env(compose["services"][name])["DJANGO_SECRET_KEY"] == OPERATOR_ENV["DJANGO_SECRET_KEY"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_db_and_redis_and_finished_migrations(compose, name):
    depends_on = compose["services"][name].get("depends_on")
    assert isinstance(depends_on, dict), (
        f"{name}: depends_on must be a mapping with conditions, got {depends_on!r}"
    )
    for dependency in ("db", "redis"):
        condition = (depends_on.get(dependency) or {}).get("condition")
        assert condition == "service_healthy", f"{name}: waits for {dependency} with condition {condition!r}"
        assert compose["services"][dependency].get("healthcheck"), (
            f"{dependency} has no healthcheck to wait for"
        )
    migrate = (depends_on.get("migrate") or {}).get("condition")
    assert migrate == "service_completed_successfully", (
        f"{name}: starts before migrations finished ({migrate!r})"
    )


def test_migrate_is_a_one_shot_service(compose):
    migrate = compose["services"].get("migrate")
    assert migrate, "no migrate service: web, worker and beat would start on an unmigrated database"
    steps = command_steps(migrate.get("command"))
    assert steps[0][:3] == ["python", "manage.py", "migrate"], (
        f"migrate service does not migrate first: {steps}"
    )
    assert str(migrate.get("restart", "no")) == "no", "a one-shot service must not be restarted"
    # The same settings as web, but connected as the owner of the tables, with the application's URL beside.
    env, web_env = service_env(migrate), service_env(compose["services"]["web"])
    variable = grant_url_variable(migrate)
    del env[variable]
    assert {**env, "DATABASE_URL": ""} == {**web_env, "DATABASE_URL": ""}, (
        "migrate sees other settings than web"
    )
    for dependency in ("db", "redis"):
        assert (migrate.get("depends_on") or {}).get(dependency, {}).get("condition") == "service_healthy"


def test_migrate_runs_as_the_owner_and_then_grants_the_application_role(compose):
    """Web, worker and beat connect as a role that is not the one owning the tables (an owner may
    `ALTER TABLE ... DISABLE TRIGGER`), made and granted by `grant_app_role` right after each migrate."""
    migrate = compose["services"]["migrate"]
    owner = compose["services"]["db"]["environment"]["POSTGRES_USER"]
    migrate_url = urlsplit(service_env(migrate)["DATABASE_URL"])
    assert (migrate_url.username, migrate_url.password) == (owner, OPERATOR_ENV["POSTGRES_PASSWORD"]), (
        "migrate does not connect as the postgres image's POSTGRES_USER, the owner of the tables"
    )
    steps = command_steps(migrate.get("command"))
    assert [step[:3] for step in steps] == [
        ["python", "manage.py", "migrate"],
        ["python", "manage.py", "grant_app_role"],
    ], f"migrate must migrate, then grant (and stop at the first failure): {migrate.get('command')}"
    assert " && " in as_argv(migrate.get("command"))[-1], "the grant must not run after a failed migrate"
    granted = service_env(migrate)[grant_url_variable(migrate)]
    for name in APP_SERVICES:
        app_url = service_env(compose["services"][name])["DATABASE_URL"]
        assert app_url == granted, f"{name} connects with another URL than the role migrate granted"
        assert urlsplit(app_url).username not in (owner, "postgres"), f"{name} connects as the owner"


def test_the_application_roles_password_must_be_given_by_the_operator(raw_compose):
    services = raw_compose["services"]
    urls = {name: service_env(services[name])["DATABASE_URL"] for name in APP_SERVICES}
    urls["migrate"] = service_env(services["migrate"])[grant_url_variable(services["migrate"])]
    without = {key: value for key, value in OPERATOR_ENV.items() if key != "POSTGRES_APP_PASSWORD"}
    for name, url in urls.items():
        assert re.search(r"\$\{POSTGRES_APP_PASSWORD:\?[^}]+\}@", url), (
            f"{name}: the application role's password must be ${{POSTGRES_APP_PASSWORD:?message}}: {url!r}"
        )
        with pytest.raises(MissingVariable):
            interpolate(url, without)


def test_web_runs_gunicorn_on_port_8000_with_a_healthz_check(compose):
    web = compose["services"]["web"]
    argv = as_argv(web.get("command"))
    if argv:
        assert argv[0] == "gunicorn", f"web command is not gunicorn: {argv}"
        assert "poverty_relief.wsgi:application" in argv, f"web does not serve poverty_relief.wsgi: {argv}"
        assert re.search(r"--bind[ =]0\.0\.0\.0:8000\b", " ".join(argv)), (
            f"web does not bind 0.0.0.0:8000: {argv}"
        )
    check = healthcheck_text(web)
    assert "/healthz" in check, f"web healthcheck does not request /healthz: {check!r}"
    assert ":8000/healthz" in check, "web healthcheck does not reach gunicorn's port"


def test_web_healthcheck_sends_an_allowed_host():
    """The probe runs in the container with its environment; the Host it sends must pass ALLOWED_HOSTS."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]["web"]["healthcheck"]["test"]
    assert raw[:3] == ["CMD", "python", "-c"], f"unexpected web healthcheck form: {raw[:3]}"
    script = raw[3]
    sent = {}

    def fake_urlopen(request, timeout):
        sent["host"] = request.get_header("Host")
        sent["url"] = request.full_url
        return mock.Mock()

    for allowed, expected in (
        ("relief.example.org,www.example.org", "relief.example.org"),
        (".example.org", "example.org"),
        ("*", "localhost"),
    ):
        with (
            mock.patch.dict(os.environ, {"DJANGO_ALLOWED_HOSTS": allowed}),
            mock.patch("urllib.request.urlopen", fake_urlopen),
        ):
            exec(compile(script, "healthcheck", "exec"), {})  # noqa: S102 - the compose file's own probe
        assert sent == {"host": expected, "url": "http://127.0.0.1:8000/healthz"}, (allowed, sent)


def test_worker_and_beat_run_celery_for_the_project(compose):
    worker = as_argv(compose["services"]["worker"].get("command"))
    beat = as_argv(compose["services"]["beat"].get("command"))
    assert worker[:4] == ["celery", "-A", "poverty_relief", "worker"], f"worker command: {worker}"
    assert beat[:4] == ["celery", "-A", "poverty_relief", "beat"], f"beat command: {beat}"
    schedule = next((arg.split("=", 1)[1] for arg in beat if arg.startswith(("--schedule=", "-s="))), None)
    if schedule is None and "--schedule" in beat:
        schedule = beat[beat.index("--schedule") + 1]
    assert schedule, f"beat has no --schedule file: {beat}"
    mounts = named_mounts(compose["services"]["beat"])
    assert any(schedule.startswith(target.rstrip("/") + "/") for target in mounts), (
        f"beat schedule {schedule} is not on a named volume ({mounts})"
    )


def test_web_and_worker_share_the_media_volume_at_media_root(compose):
    for name in ("web", "worker"):
        service = compose["services"][name]
        media_root = service_env(service).get("DJANGO_MEDIA_ROOT")
        assert media_root, f"{name}: DJANGO_MEDIA_ROOT is not set, uploads would land in the image"
        assert media_root in named_mounts(service), f"{name}: no named volume mounted at {media_root}"
    web_volume = named_mounts(compose["services"]["web"])[
        service_env(compose["services"]["web"])["DJANGO_MEDIA_ROOT"]
    ]
    worker_volume = named_mounts(compose["services"]["worker"])[
        service_env(compose["services"]["worker"])["DJANGO_MEDIA_ROOT"]
    ]
    assert web_volume == worker_volume, (
        f"web and worker use different media volumes: {web_volume} / {worker_volume}"
    )


@pytest.mark.parametrize("name", (*APP_SERVICES, "migrate"))
def test_every_variable_passed_is_read_by_the_settings(compose, name):
    read = settings_variable_names()
    if name == "migrate":  # grant_app_role reads the application's URL from its own variable
        read.add(grant_url_variable(compose["services"]["migrate"]))
    passed = set(service_env(compose["services"][name]))
    unknown = passed - read
    assert not unknown, f"{name}: passes variables that settings.py never reads: {sorted(unknown)}"


def test_settings_load_in_production_from_the_compose_environment_alone(compose):
    env = service_env(compose["services"]["web"])
    loaded = load_settings(env)
    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"] == OPERATOR_ENV["DJANGO_SECRET_KEY"]
    assert loaded["ALLOWED_HOSTS"] == ["relief.example.org"]
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["DATABASES"]["default"]["HOST"] == "db"
    assert urlsplit(loaded["CELERY_BROKER_URL"]).hostname == "redis"
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["SECURE_HSTS_SECONDS"] > 0
    assert str(loaded["MEDIA_ROOT"]) == env["DJANGO_MEDIA_ROOT"]


def test_every_variable_required_in_production_is_passed(raw_compose, compose):
    """A variable is required when settings refuse to load without it; each one must come from compose."""
    env = service_env(compose["services"]["web"])
    required = set()
    for name in sorted(settings_variable_names()):
        try:
            load_settings({key: value for key, value in env.items() if key != name})
        except (ImproperlyConfigured, ValueError, KeyError):
            required.add(name)
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY"} <= required, f"probe found only {sorted(required)} required"
    for service in APP_SERVICES:
        missing = required - set(service_env(compose["services"][service]))
        assert not missing, (
            f"{service}: settings need {sorted(missing)} in production but compose does not pass them"
        )
    raw_env = service_env(raw_compose["services"]["web"])
    for name in required:
        assert not re.fullmatch(r"\$\{" + name + r":?-[^}]*\}", raw_env.get(name, "")), (
            f"{name} is required in production but compose lets it fall back to a default"
        )


def test_allowed_hosts_must_be_given_by_the_operator(raw_compose):
    value = service_env(raw_compose["services"]["web"]).get("DJANGO_ALLOWED_HOSTS", "")
    assert re.fullmatch(r"\$\{DJANGO_ALLOWED_HOSTS:\?[^}]+\}", value), (
        f"with DEBUG off an empty DJANGO_ALLOWED_HOSTS rejects every request; compose has {value!r}"
    )


def test_no_literal_secrets_in_compose(raw_compose):
    for name, service in raw_compose["services"].items():
        env = service_env(service)
        for key in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD"):
            if key in env:
                assert env[key].startswith("${"), f"{name}: {key} is a literal in docker-compose.yml"
        for key in ("DATABASE_URL", "APP_DATABASE_URL"):
            password = urlsplit(env.get(key, "")).password
            if password is not None:
                assert password.startswith(("${POSTGRES_PASSWORD", "${POSTGRES_APP_PASSWORD")), (
                    f"{name}: {key} carries a literal password"
                )


def _stages(dockerfile: str) -> list[tuple[str, str | None]]:
    stages = []
    for match in re.finditer(
        r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$", dockerfile, re.I | re.M
    ):
        stages.append((match.group(1), match.group(2)))
    assert stages, "Dockerfile has no FROM"
    return stages


def test_dockerfile_final_image_is_python_311(dockerfile):
    stages = _stages(dockerfile)
    aliases = {alias.lower(): image for image, alias in stages if alias}
    image = stages[-1][0]
    seen = set()
    while image.lower() in aliases and image.lower() not in seen:
        seen.add(image.lower())
        image = aliases[image.lower()]
    assert re.fullmatch(r"python:3\.11([.-].*)?", image), (
        f"final image is built on {image!r}, not python:3.11"
    )
    for base, _ in stages:
        assert base.lower() in aliases or base.startswith("python:3.11"), f"a stage starts from {base!r}"


def _final_stage(dockerfile: str) -> str:
    return re.split(r"^FROM\s", dockerfile, flags=re.I | re.M)[-1]


def test_dockerfile_cmd_runs_gunicorn_with_the_wsgi_app(dockerfile):
    cmds = re.findall(r"^CMD\s+(.+)$", _final_stage(dockerfile), re.M)
    assert cmds, "the final stage has no CMD"
    cmd = cmds[-1].strip()
    argv = yaml.safe_load(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert argv[0] == "gunicorn", f"CMD does not start gunicorn: {argv}"
    assert any(arg.startswith("poverty_relief.wsgi") for arg in argv), (
        f"CMD does not serve poverty_relief.wsgi: {argv}"
    )
    assert re.search(r"0\.0\.0\.0:8000\b", " ".join(argv)), f"CMD does not bind 0.0.0.0:8000: {argv}"
    assert re.search(r"^EXPOSE\s+8000\b", _final_stage(dockerfile), re.M), (
        "the final stage does not EXPOSE 8000"
    )


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = re.findall(r"^USER\s+(\S+)", _final_stage(dockerfile), re.M)
    assert users, "the final stage has no USER: the containers would run as root"
    assert users[-1].split(":")[0] not in ("root", "0"), f"the final stage runs as {users[-1]}"


def test_dockerfile_installs_the_pyproject_dependencies(dockerfile):
    assert re.search(r"^COPY\s+pyproject\.toml\b", dockerfile, re.M), "pyproject.toml is not copied"
    assert re.search(r"tomllib.*\['project'\]\['dependencies'\].*pip install|pip install\s+\.", dockerfile), (
        "dependencies are not installed from pyproject.toml"
    )


def test_dockerfile_collects_static_files_with_throwaway_settings_on_that_line_only(dockerfile):
    runs = [line for line in dockerfile.splitlines() if re.match(r"^RUN\s", line) and "collectstatic" in line]
    assert runs, "collectstatic does not run at build time"
    line = runs[0]
    assert "--noinput" in line
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_DEBUG"):
        assert re.search(rf"\b{name}=", line), f"the collectstatic step does not set {name}"
    env_lines = " ".join(re.findall(r"^(?:ENV|ARG)\s+(.+)$", dockerfile, re.M))
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL"):
        assert name not in env_lines, f"{name} is baked into the image with ENV/ARG"


def test_dockerfile_static_root_matches_compose(dockerfile, compose):
    match = re.search(r"\bDJANGO_STATIC_ROOT=(\S+)", dockerfile)
    assert match, "the Dockerfile does not set DJANGO_STATIC_ROOT for collectstatic"
    for name in APP_SERVICES:
        value = service_env(compose["services"][name]).get("DJANGO_STATIC_ROOT", match.group(1))
        assert value == match.group(1), (
            f"{name}: static files collected to {match.group(1)} but served from {value}"
        )


def test_dockerignore_keeps_local_state_out_of_the_image():
    assert DOCKERIGNORE.is_file(), ".dockerignore is missing"
    entries = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for entry in (".git", ".venv", "var", ".env"):
        assert entry in entries, f".dockerignore does not exclude {entry}"

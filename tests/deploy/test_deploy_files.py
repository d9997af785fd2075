"""The systemd unit and the operator's guide (issue 22): what an operator copies says what it must."""

from __future__ import annotations

import re

from tests.serving import ROOT


def unit() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "clearance.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_systemd_unit_restarts_on_failure_reads_an_environment_file_and_is_hardened():
    u = unit()
    assert u["Restart"] == ["on-failure"] and u["RestartPreventExitStatus"] == ["2"]
    assert u["EnvironmentFile"] == ["/etc/clearance/clearance.env"]
    assert u["DynamicUser"] == ["yes"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes"}.items():
        assert u[key] == [value], key
    assert u["ReadWritePaths"] == ["/var/lib/clearance"] and u["LimitNOFILE"] == ["65536"]
    assert "sqlite:////var/lib/clearance/" in " ".join(u["Environment"])
    assert u["ExecStart"][0].endswith("clearance serve --host 127.0.0.1 --port 3000")


def test_the_operators_guide_is_linked_from_the_readme_and_names_no_commits():
    guide = (ROOT / "docs" / "operating.md").read_text()
    assert "](docs/operating.md)" in (ROOT / "README.md").read_text()
    for topic in ("pg_dump", "clearance backup", "CLEARANCE_LOG_FORMAT=json", "/metrics", "clearance outbox"):
        assert topic in guide, topic
    assert not re.findall(r"\b[0-9a-f]{7,40}\b", guide)

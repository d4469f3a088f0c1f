"""`postprod user ...` from the command line: JSON as documented (docs/json.md), bad input as exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

USER = {"type": "object", "additionalProperties": False, "required": ["name", "role", "language", "productions"],
        "properties": {"name": {"type": "string"}, "role": {"enum": ["coordinator", "technician", "producer"]},
                       "language": {"enum": ["fr", "en"]}, "productions": {"type": "array", "items": {"type": "string"}}}}


def postprod(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_users_made_listed_and_removed_with_json(workspace) -> None:
    made = postprod("user", "add", "marie [b]", "--role", "technician", "-p", "test", "--password-stdin", "--json",
                    stdin="long enough password\n")
    assert made.returncode == 0, made.stderr
    jsonschema.validate(json.loads(made.stdout), {"type": "object", "required": ["user"], "properties": {"user": USER}})
    listed = postprod("user", "list", "--json")
    users = json.loads(listed.stdout)
    jsonschema.validate(users, {"type": "object", "properties": {"users": {"type": "array", "items": USER}}})
    assert [u["name"] for u in users["users"]] == ["marie [b]"]
    plain = postprod("user", "list")
    assert "marie [b]" in plain.stdout  # markup in a name shown as typed
    assert json.loads(postprod("user", "remove", "marie [b]", "--json").stdout) == {"removed": "marie [b]"}


def test_bad_user_input_is_exit_2_with_a_message(workspace) -> None:
    cases = [
        (["user", "add", "x", "--role", "boss", "--password-stdin"], "unknown role 'boss'"),
        (["user", "add", "x", "--role", "technician", "--password-stdin"], "at least one production"),
        (["user", "add", "x", "--role", "coordinator", "--language", "de", "--password-stdin"], "unknown language"),
        (["user", "remove", "nobody"], "no user 'nobody'"),
    ]
    for args, words in cases:
        result = postprod(*args, stdin="long enough password\n")
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, (args, result)
    short = postprod("user", "add", "y", "--role", "coordinator", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr

"""The JSON contract: JSON Schemas of every command's --json output, written to docs/schema/.

Run `uv run python -m cli.schemas` after changing a model on purpose; a test fails while they differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from conform.schema import ConformJson
from ingest.results import CardReport
from media.model import MediaFile
from planning.money import schemas as money

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schema"

# command -> (file name, schema); each command adds its own entry.
SCHEMAS: dict[str, tuple[str, Any]] = {
    "probe": ("probe.schema.json", TypeAdapter(list[MediaFile])),
    "ingest": ("ingest.schema.json", TypeAdapter(list[CardReport])),
    "conform": ("conform.schema.json", TypeAdapter(ConformJson)),
    "plan status": ("plan-status.schema.json", TypeAdapter(money.PlanStatusJson)),
    "plan quote": ("plan-quote.schema.json", TypeAdapter(money.QuoteJson)),
    "plan overrun": ("plan-overrun.schema.json", TypeAdapter(money.OverrunJson)),
    "plan invoice": ("plan-invoice.schema.json", TypeAdapter(money.InvoiceJson)),
    "plan pay": ("plan-pay.schema.json", TypeAdapter(money.PayJson)),
}


def schema_of(command: str) -> dict[str, Any]:
    name, adapter = SCHEMAS[command]
    schema = adapter.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"postprod {command} --json"
    return schema


def render(command: str) -> str:
    return json.dumps(schema_of(command), indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for command, (name, _) in SCHEMAS.items():
        (SCHEMA_DIR / name).write_text(render(command), encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()

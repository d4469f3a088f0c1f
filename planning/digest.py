"""The coordinator's digest: one self-contained HTML page over all productions, and its sending by SMTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from config.mail import send_mail
from planning import schedule
from planning.links import production_url, report_url
from planning.schedule import ProductionStatus
from planning.stages import StageState
from planning.store import PlanningStore

HTML_DIR = Path(__file__).resolve().parent / "html"
GANTT_WIDTH = 760
LABEL_WIDTH = 170
ROW = 20


@dataclass
class Link:
    text: str
    href: str | None


@dataclass
class Item:
    production: str
    stage: str
    label: str
    state: str
    why: list[str]
    links: list[Link] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    late_by_days: int = 0


@dataclass
class Digest:
    generated_at: datetime
    today: date
    since: datetime | None
    statuses: list[ProductionStatus]
    late: list[Item]
    blocked: list[Item]
    finished: list[dict[str, Any]]
    html: str = ""
    money: Any = None  # planning.money.service.MoneyCheck, when the caller computed it

    def summary(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "today": self.today.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "productions": len(self.statuses),
            "late": [{"production": i.production, "stage": i.stage, "late_by_days": i.late_by_days, "why": i.why}
                     for i in self.late],
            "blocked": [{"production": i.production, "stage": i.stage, "why": i.why,
                         "links": [link.href or link.text for link in i.links]} for i in self.blocked],
            "finished": [{"production": f["production"], "stage": f["stage"], "at": f["at"].isoformat()}
                         for f in self.finished],
            "overruns": [a.to_json() for a in self.money.alerts] if self.money is not None else [],
            "money": {name: {k: v for k, v in pm.to_json().items() if k not in ("stages", "findings")}
                      for name, pm in self.money.money.items()} if self.money is not None else {},
        }

    def subject(self) -> str:
        overruns = f", {len(self.money.alerts)} overrun(s)" if self.money is not None and self.money.alerts else ""
        return (f"postprod digest {self.today.isoformat()}: {len(self.late)} late, {len(self.blocked)} blocked, "
                f"{len(self.finished)} finished{overruns}")

    def text(self) -> str:
        lines = [self.subject(), ""]
        for title, items in (("Late", self.late), ("Blocked", self.blocked)):
            lines.append(f"{title}:")
            for i in items:  # as the HTML part: the reasons, then the incidents of the session reports
                lines.append(f"  {i.production} / {i.label}: {'; '.join(i.why)}")
                lines += [f"    incident {inc}" for inc in i.incidents]
            if not items:
                lines.append("  none")
        lines.append("Finished since the last digest:")
        lines += [f"  {f['production']} / {f['label']} ({f['at']:%Y-%m-%d})" for f in self.finished] or ["  none"]
        if self.money is not None:
            lines.append("Overruns to negotiate:")
            lines += [f"  {a.text()}" for a in self.money.alerts] or ["  none"]
        lines.append("\nThe HTML part has the timeline of plan against actual.")
        return "\n".join(lines) + "\n"


def evidence_links(evidence: dict[str, Any], production: str | None = None,
                   public_url: str | None = None) -> list[Link]:
    """Links to the reports an update's evidence names (QC, conform, ingest reports; session reports): to the
    web page's copy when a public URL is set, else to the file."""
    links: list[Link] = []

    def add(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                add(v)
            return
        if not isinstance(value, str) or not value:
            return
        if value.startswith(("http://", "https://", "file://")):
            links.append(Link(value.rsplit("/", 1)[-1] or value, value))
            return
        path = Path(value)
        if path.is_absolute():
            html_sibling = path.with_suffix(".html")
            target = html_sibling if path.suffix == ".json" and html_sibling.exists() else path
            href = report_url(public_url, production, target) if public_url and production else target.as_uri()
            links.append(Link(target.name, href))
        else:
            links.append(Link(value, None))  # a session report's FILE:LINE

    for key, value in evidence.items():
        if "report" in key.lower() or key.lower() in ("html", "json", "path", "url"):
            add(value)
    # Session reports as FILE:LINE: one entry per file, its lines listed.
    lines: dict[str, list[str]] = {}
    kept: list[Link] = []
    for link in links:
        name, sep, line = link.text.rpartition(":")
        if link.href is None and sep and line.isdigit():
            if name not in lines:
                kept.append(Link(name, None))
                lines[name] = []
            lines[name].append(line)
        else:
            kept.append(link)
    seen: set[str] = set()
    unique = []
    for link in kept:  # a report given as JSON and as HTML is one link
        if link.href is not None:
            if link.href in seen:
                continue
            seen.add(link.href)
        unique.append(link)
    kept = unique
    for link in kept:
        if link.text in lines and link.href is None:
            link.text = f"{link.text} line{'s' if len(lines[link.text]) > 1 else ''} {', '.join(lines[link.text])}"
    return kept


def build(store: PlanningStore, today: date, *, since: datetime | None = None, now: datetime | None = None,
          money: Any = None, public_url: str | None = None) -> Digest:
    """Gather and render the digest (nothing recorded: `record` does that once it is written or sent)."""
    now = now or datetime.now().astimezone()
    since = since if since is not None else store.last_digest_at()
    statuses = [s for s in schedule.all_statuses(store, today) if s.stages]
    late: list[Item] = []
    blocked: list[Item] = []
    labels: dict[tuple[str, str], str] = {}
    incidents_of = store.incidents()
    for ps in statuses:
        for st in ps.stages:
            labels[(ps.production, st.stage)] = st.label
            if st.state not in (StageState.LATE, StageState.BLOCKED):
                continue
            incidents = [f"{r['work_date']:%Y-%m-%d} {r['technician']}: {r['incidents']}"
                         for r in incidents_of.get((ps.production, st.stage), [])]
            item = Item(production=ps.production, stage=st.stage, label=st.label, state=st.state.value,
                        why=st.reasons or ([st.note] if st.note else ["marked late"]),
                        links=evidence_links(st.evidence, ps.production, public_url), incidents=incidents,
                        late_by_days=st.late_by_days)
            (late if st.state == StageState.LATE else blocked).append(item)
    finished = store.finished_since(since)
    for f in finished:
        f["label"] = labels.get((f["production"], f["stage"]), f["stage"])
        f["links"] = evidence_links(f["evidence"], f["production"], public_url)
    digest = Digest(generated_at=now, today=today, since=since, statuses=statuses, late=late, blocked=blocked,
                    finished=finished, money=money)
    pages = {ps.production: production_url(public_url, ps.production) for ps in statuses} if public_url else {}
    digest.html = _template().render(
        d=digest, gantts={ps.production: gantt(ps) for ps in statuses}, money=money, pages=pages)
    return digest


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=FileSystemLoader(HTML_DIR), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("digest.html.j2")


def gantt(ps: ProductionStatus) -> dict[str, Any]:
    """Inline-SVG geometry: per stage, the planned bar and the actual/forecast bar, and a line for today."""
    days = [d for st in ps.stages for d in (st.planned_start, st.planned_end, st.forecast_start, st.forecast_end,
                                               st.actual_start, st.actual_end) if d]
    if not days:
        return {"rows": [], "width": 0, "height": 0}
    first, last = min([*days, ps.today]), max([*days, ps.today])
    span = (last - first).days + 1
    scale = GANTT_WIDTH / span

    def x(d: date) -> float:
        return round(LABEL_WIDTH + (d - first).days * scale, 1)

    rows = []
    for i, st in enumerate(ps.stages):
        y = 24 + i * ROW
        row: dict[str, Any] = {"y": y, "label": st.label, "state": st.state.value, "title": ""}
        if st.planned_start and st.planned_end:
            row["plan"] = (x(st.planned_start), round((st.planned_end - st.planned_start).days * scale + scale, 1))
        start = st.actual_start or st.forecast_start
        end = st.actual_end or st.forecast_end
        if start and end and end >= start:
            row["actual"] = (x(start), round((end - start).days * scale + scale, 1))
        row["title"] = (f"{st.label}: planned {_d(st.planned_start)} → {_d(st.planned_end)}, "
                        f"{'actual' if st.actual_end else 'forecast'} {_d(start)} → {_d(end)}, "
                        f"{st.spent_hours:g}/{st.planned_hours or 0:g} h, {st.state.value}")
        rows.append(row)
    ticks = []
    d = first.replace(day=1)
    while d <= last:
        if d >= first:
            ticks.append({"x": x(d), "text": d.strftime("%b %Y") if d.month == 1 else d.strftime("%b")})
        d = (d + timedelta(days=32)).replace(day=1)
    return {"rows": rows, "width": LABEL_WIDTH + GANTT_WIDTH + 10, "height": 34 + len(rows) * ROW,
            "today": x(ps.today) + round(scale / 2, 1), "ticks": ticks}


def _d(value: date | None) -> str:
    return value.isoformat() if value else "?"


def send(digest: Digest, smtp: Any) -> list[str]:
    """Send the digest (HTML with a plain-text part) with the [smtp] settings; returns the recipients."""
    return send_mail(smtp, digest.subject(), digest.text(), digest.html)

"""Demo step: a small XDCAM HD422-like PAD master with a planted defect, QC'd against fr-pad-hd."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.text import escape
from config.settings import load_settings
from qc.synth import Defect, MasterSpec, make_master

if TYPE_CHECKING:
    from demo.context import DemoContext

# 1080i25 TFF, MPEG-2 4:2:2 50 Mb/s in MXF OP1a, 8 mono PCM tracks, programme at 10:00:00:00 and -23 LUFS;
# Planted: 15 frames of black at 10:00:03:00, channel 2 silent for 2.5 s from 10:00:05:00, and 5 frames
# of luma above EBU R103's 103 % at 10:00:08:00. fr-pad-hd's 5 s tail window is where black is allowed.
DEMO_MASTER = MasterSpec(width=1920, height=1080, seconds=14.0, codec="xdcam", video_bit_rate="50M", scan="tff",
                         timecode="10:00:00:00", audio_channels=8,
                         defects=(Defect("black", 75, 15), Defect("silence", 125, 63, channel=2),
                                  Defect("illegal", 200, 5)))


def qc_step(ctx: DemoContext) -> None:
    """QC of the PAD master (fr-pad-hd, one decode): a 14 s XDCAM HD422 1080i25 master with planted defects"""
    from flows.qc import run_pad_qc
    from flows.steps import use_prefect

    cfg = load_settings(ctx.config)
    master = ctx.workspace / "out" / "PAD" / "DEMO_PAD_v1.mxf"
    if not master.exists():
        master.parent.mkdir(parents=True, exist_ok=True)
        make_master(master, DEMO_MASTER, cfg.ffmpeg_exe())
    if not use_prefect(cfg, direct=ctx.direct):  # no Prefect server: the flow's steps in this process
        report = run_pad_qc(str(master), "fr-pad-hd", "demo", cfg)
        from planning.stages import Stage
        from planning.store import PlanningStore

        state = PlanningStore(cfg.db_url).state("demo", Stage.PAD_DELIVERY)
    else:
        from flows.history import RecordedRun
        from planning.stages import Stage
        from planning.store import PlanningStore

        params = {"master": str(master), "profile": "fr-pad-hd", "production": "demo", "config": str(ctx.config)}
        with RecordedRun(cfg, "pad-qc", params) as steps:
            report = run_pad_qc(str(master), "fr-pad-hd", "demo", cfg, steps=steps)
        state = PlanningStore(cfg.db_url).state("demo", Stage.PAD_DELIVERY)
    ctx.say(f"  {escape(Path(report.master).name)}: [bold]{report.verdict.upper()}[/] "
            f"({report.summary.get('errors', 0)} error(s), {report.summary.get('warnings', 0)} warning(s)), "
            f"decoded once in {report.analysis_seconds:.1f} s")
    for c in report.failed:
        for f in c.findings:
            where = f"{f.start_tc}–{f.end_tc} " if f.start_tc else ""
            ctx.say(escape(f"    {c.check_id}: {where}{f.message}"))
    ctx.say(escape(f"  PAD delivery stage: {state.value if state else 'unchanged'}"))
    ctx.say(escape(f"  report: {report.report_html}"))

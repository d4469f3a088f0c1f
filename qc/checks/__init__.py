"""QC checks: pure functions registered by id, from (probe, measurements, profile) to findings.

The registry and the runner are in registry.py; the checks, by what they read: format.py (the probe),
stream.py (decoding), signal.py (the one decode's measurements). Importing this package registers them all,
in that order (the order of the report).
"""

# isort: off
# Importing a module registers its checks; the order here is the order of the report.
from qc.checks import format  # noqa: F401
from qc.checks import stream  # noqa: F401
from qc.checks import signal  # noqa: F401
# isort: on
from qc.checks.registry import CHECKS, Check, CheckResult, Context, Outcome, check, run_checks, severity_for

__all__ = ["CHECKS", "Check", "CheckResult", "Context", "Outcome", "check", "run_checks", "severity_for"]

"""Settings and profiles as data (specs, proxy presets, delivery profiles, plan templates)."""

__version__ = "0.1.0"

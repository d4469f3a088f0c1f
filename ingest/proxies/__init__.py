"""Proxies for the offline edit: presets, encode, verify, ALE, the proxy store."""

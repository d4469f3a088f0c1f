"""The media layer, at the bottom: the one description of a file, timecode, probe, the BWF reader, findings."""

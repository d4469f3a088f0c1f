"""Conform check: edit lists (EDL, FCP XML, FCPXML, AAF, OTIO) read into one model and matched to the rushes catalogue."""

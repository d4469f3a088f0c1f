"""Conform check: edit lists (EDL, FCP XML, FCPXML, AAF, OTIO) in one model, matched to the rushes catalogue."""

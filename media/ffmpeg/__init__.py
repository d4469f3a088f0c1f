"""Everything about running ffmpeg: which one (capabilities, supported versions), its command lines, its errors."""

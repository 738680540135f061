"""Data sets: builders for the studio's own (emoji, OpenMoji pairs) and readers for any folder."""

"""Pictures in and out: opening what users supply (files.py), tensor <-> PIL conversions,
grids and GIFs (convert.py), and glibc malloc tuning for loops over big buffers (memory.py)."""

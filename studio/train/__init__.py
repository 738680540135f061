"""Trainers for the studio's model kinds; each writes a registry checkpoint."""

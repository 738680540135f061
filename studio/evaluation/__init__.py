"""Measuring models: a feature space, Fréchet and kernel distances, probes."""

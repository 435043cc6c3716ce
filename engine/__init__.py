"""Measurement engine: one configuration in, one Record out."""

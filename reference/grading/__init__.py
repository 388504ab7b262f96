"""Grading tests, one module per assignment, each exposing ``suite``."""

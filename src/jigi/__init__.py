"""Jigi: one system for Kondo Jigima, UTM and MTC."""

__version__ = "0.1.0"

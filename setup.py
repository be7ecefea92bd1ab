"""Shim for tools that still run ``setup.py``; everything lives in pyproject.toml."""

from setuptools import setup

setup()

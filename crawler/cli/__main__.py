"""``python -m crawler.cli ...``: the ``akhbar`` command without its console script on PATH.

The Makefile runs akhbar this way, through the ``$(PYTHON)`` it was given, so that
``make run PYTHON=.venv/bin/python`` works whether or not the venv's ``bin`` is on PATH.
The package is imported under its own name (``crawler.cli``) and only this file runs as
``__main__``, so every command registered on the group is there.
"""
from crawler.cli import main

main(prog_name="akhbar")

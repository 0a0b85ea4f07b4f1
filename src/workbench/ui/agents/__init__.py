"""Agents panel: agent folders edited in a form, run inline or published."""

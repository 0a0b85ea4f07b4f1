"""The Deep Research material of the research tests and screenshots: two local files and a
question whose ``[[reply …]]`` directives fix what the scripted model says at each stage
(a plan, one answer per sub-question, the cited report)."""

from __future__ import annotations

from pathlib import Path

ACME = (
    "# Acme Corporation\n\nAcme Corporation was founded in 1987 in Tucson by Ada Ruiz.\n"
    "Its first product was a brass valve.\n\nIn 2020 Acme moved its headquarters to Denver.\n"
)
SALES = "region,units\nnorth,120\nsouth,95\neast,40\n"
QUESTION = (
    "When was Acme founded and how many units did the north region sell? "
    "[[reply Stage: plan => How many units did the north region sell?]] "
    "[[reply answer: When was Acme founded => Acme was founded in 1987 [2].]] "
    "[[reply answer: How many units => The north region sold 120 units [1].]] "
    "[[reply Stage: answer => Acme was founded in 1987 [2], and the north region sold 120 "
    "units [1].]]"
)


def write_material(parent: Path) -> Path:
    """``parent/material`` with ``acme.md`` and ``sales.csv``: a folder to research."""
    folder = parent / "material"
    folder.mkdir()
    (folder / "acme.md").write_text(ACME)
    (folder / "sales.csv").write_text(SALES)
    return folder

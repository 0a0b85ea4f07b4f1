"""Deep Research on the local engine: sources → index → cited report (docs/engine.md).

* ``sources``  — the environment's files, input documents (Files API, inline, ``file://``
  files and folders) and allowed URLs, read page by page (PDF, office, text);
* ``chunking`` — documents cut into passages that keep their page and line positions;
* ``index``    — SQLite FTS5 (bm25) over the passages, one in-memory index per run;
* ``prompts``  — the narrow prompts the model answers;
* ``plan``     — the task, its limits, and research plans (the model's list, the user's);
* ``extract``  — extractive notes: the sentences of the passages that bear on a question, and
  the second hop of a two-document question;
* ``claims``   — a model answer as sentences with ``[n]`` citations, checked by the harness;
* ``loop``     — ``ResearchLoop``: plan → search → read → notes → answer, within a budget;
* ``calls``    — one narrow model call, counted against the run's call and token budget;
* ``report``   — the report text, ``file_citation`` / ``url_citation`` annotations (byte
  offsets) and ``report.md``;
* ``chart``    — ``visualization: auto``: a bar chart of a cited table (matplotlib, optional);
* ``runs``     — ``ResearchRuns``: a deep-research create → the runner's work.
"""

from .loop import ResearchLoop
from .plan import ResearchLimits, ResearchSettings, Task

__all__ = ["ResearchLimits", "ResearchLoop", "ResearchSettings", "Task"]

"""Controlled experiments that test the course text's claims about why conv layers win.

A study is one module of this package: a dataclass extending `StudyConfig` (the schema of
its YAML in `conf/study/`, which names it as `_target_`) whose `run` trains and evaluates
what the claim needs and returns a `StudyOutcome`. The study stage (`python -m
convscope.study study=<name>`) writes it to `reports/studies/<name>/` and
`reports/figures/studies/<name>/`; the study report stage joins the sections into
`reports/studies.md`.
"""

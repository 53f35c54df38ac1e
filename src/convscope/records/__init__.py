"""The records that stages hand each other, one module each, with their only `write` and `read`.

- `convscope.records.dataset`: `meta.json` of the processed data (`DatasetMeta`) and the
  preprocess stage's `summary.json` (`DataSummary`);
- `convscope.records.run`: a training's `run.json` (`RunRecord`);
- `convscope.records.history`: a training's per-epoch `history.csv` (`History`);
- `convscope.records.metrics`: a model's evaluation record (`EvaluationRecord`) and its DVC
  metrics file (`MetricsSummary`);
- `convscope.records.files`: reading and writing a JSON record, with one-line errors.

Every `write` is atomic; every `read` of a missing or damaged file is a one-line
`ConvscopeError` naming the file and the `dvc repro` command that recreates it.
"""

"""Annotation audit studies: physicians verify the structured annotations of synthetic
reports, one verdict per annotation, and add the ones the model missed.

Not to be confused with `review/blinding/audit/` (the leak audit of a rating study).

- `rendering.py`: the narrative with every annotation marked (overlaps included);
- `selectors.py`: what a reviewer of an audit study sees (their own verdicts only; no
  provenance, model or batch), and the coordinator's adjudication queue;
- `services.py`: verdicts, corrections, added annotations, submit, adjudication;
- `results.py`: the database side of the statistics (`review/stats/annotation_audit.py`);
- `dataset.py`: the verified dataset (adjudicated labels, JSONL, BRAT, BIO, split, card);
- `views.py`, `urls.py`: the reviewer's page and the coordinator's pages, thin.
"""

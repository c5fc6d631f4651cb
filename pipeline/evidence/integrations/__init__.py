"""Thin adapters that attach the tracking hook (:class:`pipeline.tracking.Tracker`) to the
trainers researchers already use. Each imports its library lazily, so the package itself needs
neither: ``pipeline.evidence.integrations.hf`` (Hugging Face ``transformers`` Trainer,
``pip install -e .[hf]``) and ``pipeline.evidence.integrations.lightning`` (PyTorch Lightning,
``pip install -e .[lightning]``)."""

"""curate: turn raw corpora into SFT and preference datasets."""

__version__ = "0.1.0"

"""report.html: what a run did, with plots. ``write_report(out_dir, manifest)``."""

from .html import write_report

__all__ = ["write_report"]

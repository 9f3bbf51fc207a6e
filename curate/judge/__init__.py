"""LLM judges: rubric scores or order-checked pairwise verdicts on candidate replies, several
judges with their agreement, preference pairs from the verdicts, and the hard cases for people.

The columns and reasons the judge stages share are in :mod:`curate.judge.columns`.
"""

"""The two labels postkind assigns, defined once for the whole package.

See ``CODEBOOK.md`` in the shared folder for what each label means.
"""

from __future__ import annotations

__all__ = ["BROADCAST", "CONVERSATIONAL", "LABELS", "UNCERTAIN", "POSITIVE"]

#: One-way posts pushed to an audience (news, links, promotion, status updates).
BROADCAST = "broadcast"
#: Two-way posts that take part in, or open, an exchange with particular people.
CONVERSATIONAL = "conversational"
#: Both labels, in the order the classifier's probability columns use.
LABELS: tuple[str, str] = (BROADCAST, CONVERSATIONAL)
#: The label whose probability ``predict_proba`` returns.
POSITIVE = CONVERSATIONAL
#: Given by ``tag --min-confidence`` to rows the model is not sure about.
UNCERTAIN = "uncertain"

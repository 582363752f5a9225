"""Which /api/ addresses are Hugging Face's: every /api/ route except this site's own /api/v1.

huggingface_hub sends a reader's saved Hugging Face token to whatever endpoint it is pointed at,
so on these routes a token that is not this site's is ignored (web/auth.py), and errors are
written the way huggingface.co writes them (web/errors.py). Kept apart, with no imports, so that
the middleware can ask without loading the routes.
"""

from __future__ import annotations

_OWN_API = "/api/v1"


def is_hf_path(path: str) -> bool:
    """/api/daily_papers, /api/papers, /api/papers/{id}, /api/papers/search and any other /api/
    address outside /api/v1 (Hugging Face's API has no /api/v1)."""
    if not path.startswith("/api/"):
        return False
    return not (path == _OWN_API or path.startswith(_OWN_API + "/"))

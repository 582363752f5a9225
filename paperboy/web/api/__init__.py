"""The JSON API: this site's own /api/v1 and Hugging Face's paper endpoints, mounted from app.py.

Kept free of imports, so that the middleware can ask `hf_paths` without loading the routes.
"""

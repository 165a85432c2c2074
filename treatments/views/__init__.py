"""The HTML edge: pages for clinicians and MDT coordinators (urls.py maps them)."""

"""The rules engine: pure Python, no Django. See architecture.md ("Rules as data")."""

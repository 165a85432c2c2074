"""REST API v1 (contract.md section 4): thin DRF views over the same selectors and services as the pages."""

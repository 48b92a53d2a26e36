"""The verifiable data registry: append-only log (log.py, api_log.py) and VDR (vdr_*.py); app in app.py."""

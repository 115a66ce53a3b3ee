"""Reports: the managers' dashboards, the regulator report and its PDF (issue 11)."""

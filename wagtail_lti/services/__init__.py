"""Services tools call: the token endpoint, AGS, NRPS, Basic Outcomes, results, access tokens."""

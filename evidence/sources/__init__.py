"""Sources of evidence: one module per place evidence comes from."""

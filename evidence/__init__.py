"""Evidence: items, the locker that keeps them, SARIF and Falco normalisation, and sources."""

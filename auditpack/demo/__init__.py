"""Evidence shipped with auditpack for `auditpack demo`."""

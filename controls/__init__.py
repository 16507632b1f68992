"""Controls: the control matrix, periods, and the assessment of controls against evidence."""

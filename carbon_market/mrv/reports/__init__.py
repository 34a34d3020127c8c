"""Annual emission reports: their workflow, figures, review flags and indicators."""

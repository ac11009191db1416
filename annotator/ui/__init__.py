"""Every Qt class of the annotator lives here; the core never imports this package."""

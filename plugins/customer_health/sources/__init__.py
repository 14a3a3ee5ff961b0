"""Sources: the canonical streams, the extractor contract and one module per kind of system."""

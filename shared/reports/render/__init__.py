"""Report artefacts: the documents a report is printed and forwarded as."""

"""One module per page; each exports `page()` and its `ON_LOAD` events."""

"""ISO 20022 camt.052/053/054 (`reader`, with entry details in `details`)."""

"""SWIFT MT940/MT942 (`reader`, the tag fields in `fields`)."""

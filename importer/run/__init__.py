"""Running an import: the pipeline, the upload journal, the run lock, account resolution,
run history and undo, the unattended routine and the watched inbox."""

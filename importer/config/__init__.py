"""Configuration: importer.yaml (`settings`), default folders (`paths`), secrets from the
environment or the OS keyring (`secrets`), and the starter `importer init` writes (`starter`)."""

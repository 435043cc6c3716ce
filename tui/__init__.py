"""The user interface: the Textual app, the CLI and headless run, the Rich report and its exports."""

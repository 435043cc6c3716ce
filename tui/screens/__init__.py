"""The app's screens, one per view, and the data they share."""

"""The app's pages and APIs, one blueprint a concern."""

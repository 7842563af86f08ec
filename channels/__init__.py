"""The project's Rasa input channels, named by module path in credentials.yml."""

"""The pure domain: ticket statuses and their rules, policy, the decision of what to do with a message,
city data and text utilities. Imports neither Flask nor SQLAlchemy nor any provider SDK."""

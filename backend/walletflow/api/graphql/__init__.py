"""The GraphQL API: queries for analysts, one mutation per registry command, subscriptions."""

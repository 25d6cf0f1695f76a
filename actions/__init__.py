"""The rasa-sdk action server: the shop's catalog, orders and recommendations."""

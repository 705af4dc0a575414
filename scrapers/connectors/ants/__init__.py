from scrapers.connectors.ants.connector import AntsConnector

__all__ = ["AntsConnector"]

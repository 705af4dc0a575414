from scrapers.connectors.ics.connector import IcsConnector

__all__ = ["IcsConnector"]

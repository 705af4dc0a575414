from scrapers.connectors.synbird.connector import SynbirdConnector

__all__ = ["SynbirdConnector"]

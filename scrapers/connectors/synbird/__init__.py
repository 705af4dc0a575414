from scrapers.connectors.synbird.config import Config
from scrapers.connectors.synbird.connector import SynbirdConnector

__all__ = ["Config", "SynbirdConnector"]

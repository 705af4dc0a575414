from scrapers.connectors.ics.config import Config
from scrapers.connectors.ics.connector import IcsConnector

__all__ = ["Config", "IcsConnector"]

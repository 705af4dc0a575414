from scrapers.connectors.ants.config import Config
from scrapers.connectors.ants.connector import AntsConnector

__all__ = ["Config", "AntsConnector"]
